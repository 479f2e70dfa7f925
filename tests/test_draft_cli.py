"""`plan draft` as a user runs it: CliRunner in a temporary working directory, offline unless a test says not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_llm_server import Failure, FakeLLMServer
from typer.testing import CliRunner, Result

from agent.cli import app
from agent.session import OFFLINE_NOTE

SECRET = "sk-test-Zq81mB7vX2pL0aaaaaaaaaaaaaaaaaaaaaaa"
BRIEF = """# Export invoices as CSV

Finance wants to download each invoice as a CSV file from the invoice page.

- Add a CSV export of an invoice with its line items
- Include the invoice total and its currency
"""
REPORT_KEYS = {"plan_path", "json_path", "complete", "rounds", "findings", "usage", "timings"}
USAGE_KEYS = {"calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd"}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small Python billing package, with the brief beside it, as the working directory; no keys set."""
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    files = {
        "pyproject.toml": '[project]\nname = "billing"\nversion = "0.1.0"\n',
        "src/billing/__init__.py": "",
        "src/billing/invoice.py": '"""Invoices and their line items."""\n\n\nclass Invoice:\n'
                                  "    def total(self) -> int:\n        return 0\n",
        "src/billing/customer.py": "class Customer:\n    pass\n",
        "src/shipping/labels.py": "def print_label() -> None:\n    pass\n",
        "tests/test_invoice.py": "def test_total() -> None:\n    pass\n",
        "briefs/invoices.md": BRIEF,
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def draft(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, ["draft", *args], env=env, input=stdin)


def default_plan(repo: Path, slug: str = "export-invoices-as-csv") -> Path:
    return repo / "implementation-plans" / slug / "plan.md"


def one_line_error(result: Result, after_progress: bool = False) -> str:
    """The error line; before any drafting starts it is all that is printed."""
    assert result.stdout == "" and "Traceback" not in result.output
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("plan: error: ")]
    assert errors == lines[-1:] and (after_progress or len(lines) == 1), result.stderr
    return errors[0]


# --- offline by default ----------------------------------------------------------------------------


def test_without_a_key_or_model_it_drafts_offline_and_says_how_to_configure_one(repo: Path) -> None:
    result = draft("briefs/invoices.md")
    plan = default_plan(repo)
    assert result.exit_code == 3  # the offline skeleton leaves TODOs for a person
    assert plan.is_file() and plan.with_suffix(".json").is_file()
    notes = [line for line in result.stderr.splitlines() if "OPENAI_API_KEY" in line]
    assert notes == [OFFLINE_NOTE] and "--model" in OFFLINE_NOTE
    assert f"plan written to {plan}" in result.stderr
    assert result.stdout == ""


def test_offline_plan_names_the_repositorys_real_files(repo: Path) -> None:
    draft("briefs/invoices.md")
    text = default_plan(repo).read_text()
    modify = text.split("### Files to modify", 1)[1].split("###", 1)[0]
    assert "`src/billing/invoice.py`" in modify
    assert "`briefs/invoices.md`" not in modify  # the brief itself is not a file to change
    report = json.loads(default_plan(repo).with_suffix(".json").read_text())["report"]
    invented = [f for f in report["findings"] if f["code"] in ("path-missing", "path-exists")]
    assert invented == []


def test_offline_plan_keeps_each_requirement_apart(repo: Path) -> None:
    draft("briefs/invoices.md")
    text = default_plan(repo).read_text()
    assert "line items Include" not in text  # two bullets are two sentences


def test_json_format_prints_one_report_object(repo: Path) -> None:
    result = draft("briefs/invoices.md", "--format", "json")
    report = json.loads(result.stdout)  # the whole of stdout is one JSON object
    assert isinstance(report, dict) and report.keys() >= REPORT_KEYS
    assert set(report["usage"]) == USAGE_KEYS
    assert report["plan_path"] == str(default_plan(repo))
    assert report["json_path"] == str(default_plan(repo).with_suffix(".json"))
    assert report["complete"] is False and result.exit_code == 3
    assert report["findings"] and {"severity", "code", "message", "line"} <= set(report["findings"][0])
    assert report["usage"]["calls"] >= 1 and report["usage"]["cost_usd"] == 0.0  # offline is free
    assert "plan written" not in result.stdout


# --- where the plan goes -----------------------------------------------------------------------------


def test_an_existing_plan_is_kept_unless_forced(repo: Path) -> None:
    plan = default_plan(repo)
    plan.parent.mkdir(parents=True)
    plan.write_text("my edits\n")
    refused = draft("briefs/invoices.md")
    assert refused.exit_code == 2 and "--force" in one_line_error(refused)
    assert plan.read_text() == "my edits\n" and not plan.with_suffix(".json").exists()

    forced = draft("briefs/invoices.md", "--force")
    assert forced.exit_code == 3 and plan.read_text().startswith("---")
    assert not list(plan.parent.glob(".*.tmp"))  # the atomic write left nothing behind


def test_out_names_a_file_or_a_directory(repo: Path) -> None:
    draft("briefs/invoices.md", "--out", "plans/csv.md")
    assert (repo / "plans" / "csv.md").is_file() and (repo / "plans" / "csv.json").is_file()
    draft("briefs/invoices.md", "--out", "elsewhere/")
    assert (repo / "elsewhere" / "plan.md").is_file()


# --- brief formats -----------------------------------------------------------------------------------


def test_yaml_requirements_brief(repo: Path) -> None:
    (repo / "brief.yaml").write_text(
        "feature: Invoice CSV export\nproblem: Finance copies invoices by hand.\n"
        "requirements:\n  - Export an invoice with its line items\n  - Include the total and currency\n"
    )
    result = draft("brief.yaml", "--format", "json")
    plan = default_plan(repo, "invoice-csv-export")
    assert json.loads(result.stdout)["plan_path"] == str(plan)
    text = plan.read_text()
    assert "Export an invoice with its line items" in text and "Include the total and currency" in text


def test_github_issue_brief_slug_starts_with_its_number(repo: Path) -> None:
    issue = {"number": 482, "title": "Export invoices as CSV", "labels": [{"name": "billing"}],
             "body": "Finance wants CSV downloads.\n\n- [ ] Export line items\n- [ ] Include the total"}
    (repo / "issue.json").write_text(json.dumps(issue))
    result = draft("issue.json", "--format", "json")
    plan = Path(json.loads(result.stdout)["plan_path"])
    assert plan.parent.name == "482-export-invoices-as-csv" and plan.is_file()
    assert "Export line items" in plan.read_text()


def test_brief_from_stdin(repo: Path) -> None:
    result = draft("-", "--format", "json", stdin="# Archive old invoices\n\nMove invoices older than 7 years.\n")
    assert json.loads(result.stdout)["plan_path"] == str(default_plan(repo, "archive-old-invoices"))


def test_issue_json_from_stdin(repo: Path) -> None:
    result = draft("-", "--format", "json", stdin=json.dumps({"number": 7, "title": "Void invoices"}))
    assert Path(json.loads(result.stdout)["plan_path"]).parent.name == "7-void-invoices"


@pytest.mark.parametrize(("name", "content", "says"), [
    ("empty.md", b"  \n\n", "the brief is empty"),
    ("missing.md", None, "no such file"),
    ("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
    ("broken.json", b'{"title": "x",', "not valid JSON"),
    ("untitled.json", b'{"body": "no title"}', "`title`"),
    ("broken.yaml", b"feature: [unclosed\n", "not valid YAML"),
    ("briefs", None, "is a directory"),
])
def test_unusable_brief_is_a_one_line_usage_error(repo: Path, name: str, content: bytes | None, says: str) -> None:
    if content is not None:
        (repo / name).write_bytes(content)
    result = draft(name)
    assert result.exit_code == 2
    assert says in one_line_error(result)
    assert not (repo / "implementation-plans").exists()


def test_empty_stdin_is_a_usage_error(repo: Path) -> None:
    result = draft("-", stdin="")
    assert result.exit_code == 2 and "empty" in one_line_error(result)


@pytest.mark.parametrize("args", [["--max-rounds", "-1"], ["--concurrency", "0"], ["--max-cost", "0"]])
def test_bad_limits_are_usage_errors(repo: Path, args: list[str]) -> None:
    result = draft("briefs/invoices.md", *args)
    assert result.exit_code == 2 and args[0] in one_line_error(result)


# --- secrets -----------------------------------------------------------------------------------------


def everything_written(repo: Path, result: Result) -> str:
    files = [path.read_text() for path in (repo / "implementation-plans").rglob("*") if path.is_file()]
    return "\n".join([result.stdout, result.stderr, *files])


def test_the_api_key_never_reaches_the_plan_the_report_or_the_terminal(repo: Path) -> None:
    with FakeLLMServer() as server:
        args = ["--model", "openai:test", "--base-url", server.openai_base_url]
        result = draft("briefs/invoices.md", *args, "--format", "json", env={"OPENAI_API_KEY": SECRET})
        assert server.requests[0].headers["authorization"] == f"Bearer {SECRET}"  # it was used
    assert default_plan(repo).is_file(), result.stderr
    assert SECRET not in everything_written(repo, result)


def test_the_api_key_stays_out_of_offline_output(repo: Path) -> None:
    result = draft("briefs/invoices.md", "--model", "offline", env={"OPENAI_API_KEY": SECRET})
    assert default_plan(repo).is_file()
    assert SECRET not in everything_written(repo, result)


def test_a_server_that_echoes_the_key_does_not_leak_it(repo: Path) -> None:
    with FakeLLMServer() as server:
        server.push(*[Failure(401, f"Incorrect API key provided: {SECRET}")] * 10)
        args = ["--model", "openai:test", "--base-url", server.openai_base_url]
        result = draft("briefs/invoices.md", *args, env={"OPENAI_API_KEY": SECRET})
    assert result.exit_code == 1
    assert "check OPENAI_API_KEY" in one_line_error(result, after_progress=True) and SECRET not in result.output
    assert not (repo / "implementation-plans").exists()



# --- the cost cap --------------------------------------------------------------------------------------


def schema_name(request: Any) -> str:
    return str(request.body["response_format"]["json_schema"]["name"])


def test_max_cost_stops_before_the_call_that_would_pass_it(repo: Path) -> None:
    # gpt-4.1-mini: the bound on a call (every byte of its body a token, every section's, the spine's and the
    # review's tool in it, a 4096-token output budget) is over $0.01, so $0.02 allows one at a time; what each really cost (a few hundred tokens) leaves room for a
    # few more, one after the other, until the next one's bound no longer fits.
    with FakeLLMServer() as server:
        args = ["--model", "openai:gpt-4.1-mini", "--base-url", server.openai_base_url, "--max-cost", "0.02"]
        result = draft("briefs/invoices.md", *args, "--max-rounds", "0", "--format", "json",
                       env={"OPENAI_API_KEY": SECRET})
        report = json.loads(result.stdout)
        assert len(server.requests) == len(report["calls"]) > 1  # more than the one that fits at a time
    assert 0 < report["usage"]["cost_usd"] <= 0.02
    budget = [f for f in report["findings"] if f["code"] == "budget"]
    assert budget and "--max-cost" in budget[0]["message"] and not report["complete"]
    assert result.exit_code == 3 and default_plan(repo).is_file()  # what was drafted is kept


def test_no_review_drafts_without_the_review_call(repo: Path) -> None:
    with FakeLLMServer() as server:
        args = ["--model", "openai:gpt-4.1-mini", "--base-url", server.openai_base_url, "--format", "json"]
        result = draft("briefs/invoices.md", *args, "--no-review", env={"OPENAI_API_KEY": SECRET})
        asked = [schema_name(r) for r in server.requests]
    assert result.exit_code in (0, 3), result.stderr  # the fake server's file names are not this repository's
    assert asked[0] == "plan-spine" and "plan-review" not in asked
    report = json.loads(result.stdout)
    assert "review" not in report["calls_by_purpose"] and report["calls_by_purpose"]["spine"]["calls"] == 1
    assert json.loads(Path(report["json_path"]).read_text())["review"] is None
