"""`plan mcp` as an agent host runs it: the real `plan` executable over stdio, driven by the `mcp` client, one
server for every test (it must live on after a tool error too)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from anyio.from_thread import start_blocking_portal

from agent.template.catalog import builtin_templates

if TYPE_CHECKING:  # imported where used: one worker runs these tests, and the mcp package takes 0.5 s to load
    from mcp import Client

PLAN_EXECUTABLE = Path(sys.executable).parent / "plan"
TIMEOUT_S = 60
Serve = Callable[[Callable[["Client"], Awaitable[Any]]], Any]
BRIEF = "# Export invoices as CSV\n\nFinance wants to download each invoice as a CSV file.\n"
FLAWED_PLAN = """# Export invoices as CSV — one-page plan

**Status:** draft
**Size:** XXL

## Goal

{One paragraph: the outcome, and how we will know it worked.}

## Plan

1. Add a to_csv method to the Invoice class

## Files

### Files to modify

- `src/billing/invoice.py` - add to_csv

### Files to create

- `src/billing/csv_export.py` - the CSV writer

## Tests

- [ ] The CSV of a two-line invoice has a header row and two rows

## Risks

- Large invoices are slow to export; stream the rows
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    (root / "src/billing").mkdir(parents=True)
    (root / "src/billing/invoice.py").write_text("class Invoice:\n    def total(self) -> int:\n        return 0\n")
    (root / "pyproject.toml").write_text('[project]\nname = "billing"\n')
    (root / "plan.md").write_text(FLAWED_PLAN)
    return root


@pytest.fixture(scope="module")
def server(repo: Path) -> Iterator[Serve]:
    """One `plan mcp` started in `repo` with no API keys, for every test here, as an agent host keeps one
    running (and starting one costs 0.7 s of CPU); `server(body)` runs `body` with a client connected to it."""
    from mcp import Client, StdioServerParameters

    command = StdioServerParameters(command=str(PLAN_EXECUTABLE), args=["mcp"], cwd=repo, env={"NO_COLOR": "1"})
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(
            Client(command, read_timeout_seconds=TIMEOUT_S)) as connected:

        async def run(body: Callable[[Client], Awaitable[Any]]) -> Any:
            with anyio.fail_after(TIMEOUT_S):  # a hung server fails the test instead of hanging the suite
                return await body(connected)

        yield lambda body: portal.call(run, body)


def test_a_client_lists_the_four_tools_with_typed_inputs_and_outputs(server: Serve) -> None:
    async def body(client: Client) -> Any:
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in server(body)}

    assert set(tools) == {"draft_plan", "validate_plan", "list_templates", "repo_context"}
    assert {"brief_text", "brief_path", "template", "repo", "model"} <= set(tools["draft_plan"].input_schema["properties"])
    assert tools["validate_plan"].input_schema["required"] == ["plan_path"]
    assert "valid" in tools["validate_plan"].output_schema["properties"]
    assert all(tool.description for tool in tools.values())


def test_validate_plan_returns_each_finding_with_its_line(server: Serve) -> None:
    async def body(client: Client) -> Any:
        return await client.call_tool("validate_plan", {"plan_path": "plan.md", "template": "compact"})

    result = server(body)

    assert not result.is_error
    report = result.structured_content
    assert report["valid"] is False and report["errors"] == 2
    lines = FLAWED_PLAN.splitlines()
    placeholder = next(line for line in lines if line.startswith("{One paragraph"))
    found = {(finding["line"], finding["code"]) for finding in report["findings"]}
    assert found == {(lines.index("**Size:** XXL") + 1, "enum"), (lines.index(placeholder) + 1, "placeholder")}


def test_draft_plan_writes_a_plan_and_returns_where_and_what_remains(repo: Path, server: Serve) -> None:
    async def body(client: Client) -> Any:
        return await client.call_tool("draft_plan", {"brief_text": BRIEF, "template": "compact", "out": "plans/"})

    result = server(body)

    assert not result.is_error
    drafted = result.structured_content
    assert Path(drafted["plan_path"]) == Path("plans/plan.md") and (repo / "plans/plan.md").is_file()
    assert drafted["model"] == "offline" and drafted["template"] == "compact"
    assert drafted["complete"] is False and drafted["findings"]  # the offline skeleton leaves TODOs
    assert {"line", "column", "message", "unit"} <= set(drafted["findings"][0])


def test_list_templates_and_repo_context(server: Serve) -> None:
    async def body(client: Client) -> Any:
        listed = await client.call_tool("list_templates", {})
        context = await client.call_tool("repo_context", {"brief": BRIEF, "context_tokens": 4000})
        return listed, context

    listed, context = server(body)

    names = [template["name"] for template in listed.structured_content["templates"]]
    assert names == list(builtin_templates()) and listed.structured_content["default"] == "default"
    assert all(template["sections"] > 0 for template in listed.structured_content["templates"])
    assert context.structured_content["schema_version"] == 1
    assert context.structured_content["budget_tokens"] == 4000
    assert "src/billing/invoice.py" in [ranked["path"] for ranked in context.structured_content["ranked"]]


def test_errors_come_back_as_one_line_tool_errors(server: Serve) -> None:
    async def body(client: Client) -> Any:
        missing = await client.call_tool("validate_plan", {"plan_path": "no-such-plan.md"})
        no_brief = await client.call_tool("draft_plan", {})
        after = await client.call_tool("list_templates", {})  # the server lives on after a tool error
        return missing, no_brief, after

    missing, no_brief, after = server(body)

    for result in (missing, no_brief):
        assert result.is_error
        text = result.content[0].text
        assert len(text.splitlines()) == 1 and "Traceback" not in text
    assert "no-such-plan.md" in missing.content[0].text
    assert "brief_text" in no_brief.content[0].text
    assert not after.is_error


def test_plan_help_does_not_import_the_mcp_package() -> None:
    code = ("import sys; from typer.testing import CliRunner; from agent.cli import app; "
            "result = CliRunner().invoke(app, ['--help']); assert result.exit_code == 0 and 'mcp' in result.output; "
            "assert 'mcp' not in sys.modules, 'plan --help imported mcp'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
