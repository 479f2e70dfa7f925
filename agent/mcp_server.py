"""`plan mcp`: a Model Context Protocol server over stdio, so coding agents can draft, check and inspect plans.

Four tools, each a thin layer over the library like the CLI commands: `draft_plan`, `validate_plan`,
`list_templates`, `repo_context`. Results are typed; our errors come back as tool errors carrying their
one-line message. Only `plan mcp` imports this module, so `plan --help` never loads the `mcp` package.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field

from agent import __version__
from agent.check.validate import Finding
from agent.config import KEYS  # the tools' settings are described as the CLI's options are
from agent.errors import PlanError

if TYPE_CHECKING:  # imported by `serve`, where the server starts: importing this module stays light
    from agent.session import Session

try:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
except ImportError as error:  # mcp 1.x named it FastMCP; an old pin elsewhere can hold it back
    raise PlanError(f"plan mcp needs the mcp package 2.x ({error}); install it with: pip install 'mcp>=2.3,<3'") from None

INSTRUCTIONS = (
    "plan-agent drafts implementation plans in a team's markdown template and checks them. Before editing "
    "code for a feature, call draft_plan with the brief; read the plan it writes; fix what validate_plan "
    "reports (each finding names a line) and call validate_plan again until `valid` is true."
)


class PlanFinding(BaseModel):
    """One problem in a plan, at a line of the plan file."""

    severity: Literal["error", "warning"]
    code: str = Field(description="What kind of problem: placeholder, empty, missing-heading, order, enum, ...")
    message: str = Field(description="What is wrong and what to change")
    line: int = Field(description="1-based line in the plan file (0: the section could not be drafted)")
    column: int = Field(description="1-based column; 1 when only the line is known")
    section: str = Field(description="The heading path, e.g. 'Files > Files to modify'")
    unit: str = Field(description="The template section this belongs to (the name plan revise --section takes)")

    @classmethod
    def of(cls, finding: Finding) -> PlanFinding:
        return cls(**finding.as_dict())


class DraftedPlan(BaseModel):
    plan_path: str = Field(description="The plan markdown file that was written")
    json_path: str = Field(description="plan.json beside it: the plan's data and the draft report")
    complete: bool = Field(description="True when no error findings remain")
    model: str
    template: str
    findings: list[PlanFinding] = Field(description="What still needs a person (or another pass)")
    cost_usd: float | None = Field(description="What the draft cost, when the model's price is known")


class ValidatedPlan(BaseModel):
    plan_path: str
    template: str
    valid: bool = Field(description="True when there are no error findings")
    errors: int
    warnings: int
    findings: list[PlanFinding]


class TemplateSummary(BaseModel):
    name: str
    sections: int = Field(description="How many sections the template drafts, one model call each")


class TemplateList(BaseModel):
    templates: list[TemplateSummary]
    default: str = Field(description="The template used when none is named (config file or built-in default)")


class PlanTools:
    """The tools, bound to the server's session (its environment: API keys, PLAN_* settings; its provider
    factory) and working directory. Each call resolves the settings for the repository it names."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def draft_plan(
        self,
        brief_text: Annotated[str | None, Field(description="The feature brief as markdown")] = None,
        brief_path: Annotated[str | None, Field(description="Or a brief file: markdown, YAML, issue JSON")] = None,
        template: Annotated[str | None, Field(description=KEYS["template"].help)] = None,
        repo: Annotated[str, Field(description="Repository the plan is about")] = ".",
        model: Annotated[str | None, Field(description=KEYS["model"].help)] = None,
        out: Annotated[str | None, Field(description="Plan file or directory to write")] = None,
        force: Annotated[bool, Field(description="Overwrite an existing plan")] = False,
    ) -> DraftedPlan:
        """Draft an implementation plan for a brief in the repository's template, write plan.md and plan.json,
        and check it. Give brief_text or brief_path. Findings list what is still missing or wrong."""
        from agent.session import DraftRequest

        with _tool_errors(), _brief_file(brief_text, brief_path) as brief:
            session = self.session.resolve({"template": template, "model": model}, repo)
            outcome = session.run_draft(DraftRequest(brief=brief, repo=repo, out=out, force=force))
        result = outcome.result
        return DraftedPlan(plan_path=str(outcome.plan_path), json_path=str(outcome.json_path),
                           complete=result.complete, model=outcome.model, template=outcome.template.name,
                           findings=[PlanFinding.of(f) for f in result.findings], cost_usd=result.cost_usd)

    def validate_plan(
        self,
        plan_path: Annotated[str, Field(description="The plan markdown file")],
        template: Annotated[str | None, Field(description="Template name or path; default: the one "
                                              "plan.json records, else the configured one")] = None,
        repo: Annotated[str | None, Field(description="Repository root: also check the files it names")] = None,
    ) -> ValidatedPlan:
        """Check a plan against its template: leftover placeholders, empty or missing sections, headings out of
        order, values outside the template's choices, and with repo, files that do (not) exist."""
        from agent.check.validate import validate_file

        with _tool_errors():
            compiled = self.session.resolve({"template": template}, repo or ".", plan=plan_path).template()
            findings = validate_file(plan_path, compiled, repo)
        errors = sum(1 for finding in findings if finding.severity == "error")
        return ValidatedPlan(plan_path=plan_path, template=compiled.name, valid=errors == 0, errors=errors,
                             warnings=len(findings) - errors, findings=[PlanFinding.of(f) for f in findings])

    def list_templates(self) -> TemplateList:
        """The built-in plan templates, with how many sections each drafts, and the default template."""
        from agent.template.catalog import builtin_templates, load_template

        with _tool_errors():
            names = list(builtin_templates())
            summaries = [TemplateSummary(name=name, sections=len(load_template(name).units)) for name in names]
            default = self.session.resolve({}).settings.template
        return TemplateList(templates=summaries, default=default)

    def repo_context(
        self,
        brief: Annotated[str, Field(description="The feature brief as text, to rank the repository's files against")],
        repo: Annotated[str, Field(description="Repository to read")] = ".",
        context_tokens: Annotated[int | None, Field(description=KEYS["context_tokens"].help_with_default)] = None,
    ) -> dict[str, Any]:
        """What plan-agent knows of the repository for this brief: stack facts, files ranked against the brief,
        their outlines, and what was left out; secrets are never read."""
        from agent.context import context_for_brief, to_json
        from agent.context.brief import Brief, redact_brief

        with _tool_errors():
            tokens = self.session.resolve({"context_tokens": context_tokens}, repo).settings.context_tokens
            built = context_for_brief(Path(repo), redact_brief(Brief(_title(brief), brief, "-")), tokens)
        return to_json(built)


def _title(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "brief")
    return first.lstrip("# ").strip()


@contextmanager
def _tool_errors() -> Iterator[None]:
    """Our errors reach the agent as a tool error with their one-line message; anything else is a bug."""
    try:
        yield
    except PlanError as error:
        raise ToolError(str(error)) from None


@contextmanager
def _brief_file(text: str | None, path: str | None) -> Iterator[str]:
    """The brief as a file path: `path` itself, or `text` written to a temporary file."""
    if bool(text) == bool(path):
        raise ToolError("give exactly one of brief_text (the brief as markdown) or brief_path (a brief file)")
    if path:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="plan-brief-") as folder:
        brief = Path(folder) / "brief.md"
        brief.write_text(text or "", encoding="utf-8")
        yield str(brief)


def build_server(session: Session) -> MCPServer:
    server: MCPServer = MCPServer("plan-agent", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING")
    tools = PlanTools(session)
    for tool in (tools.draft_plan, tools.validate_plan, tools.list_templates, tools.repo_context):
        server.add_tool(tool)
    return server


def serve() -> None:
    """Run the server on standard input and output until the client closes them."""
    import os

    import anyio

    from agent.session import Session

    anyio.run(_serve_stdio, build_server(Session(env=dict(os.environ))))


async def _serve_stdio(server: MCPServer) -> None:
    """`server.run("stdio")`, except that a line that is not a JSON-RPC message gets the parse error
    JSON-RPC 2.0 prescribes (code -32700, id null) instead of being dropped without a word, so a client
    that sent it is not left waiting."""
    import anyio
    from mcp.server.stdio import stdio_server
    from mcp.shared.message import SessionMessage
    from mcp.types import PARSE_ERROR, ErrorData, JSONRPCError

    lowlevel = server._lowlevel_server  # the run loop `MCPServer.run_stdio_async` drives, fed through our screen
    async with stdio_server() as (read_stream, write_stream):
        screened_send, screened = anyio.create_memory_object_stream[SessionMessage | Exception](0)

        async def screen() -> None:
            async with screened_send:
                async for item in read_stream:
                    if isinstance(item, Exception):
                        error = ErrorData(code=PARSE_ERROR, message="Parse error: each line must be one JSON-RPC "
                                          "2.0 message in JSON")
                        await write_stream.send(SessionMessage(JSONRPCError(jsonrpc="2.0", id=None, error=error)))
                    else:
                        await screened_send.send(item)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(screen)
            await lowlevel.run(screened, write_stream, lowlevel.create_initialization_options())
