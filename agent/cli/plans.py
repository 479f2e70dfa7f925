"""`plan draft`, `validate`, `revise`, `context` and `mcp`: one plan at a time."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from agent.cli.app import (
    EXIT_FINDINGS,
    BaseURLOption,
    Flags,
    OutputFormat,
    app,
    print_json,
    session,
    user_errors,
    with_settings,
)


class PlanFormat(StrEnum):
    md = "md"
    json = "json"


@app.command("draft")
@with_settings("template", "model", "max_rounds", "concurrency", "max_cost", "context_tokens", "timeout", "deadline")
def draft(
    ctx: typer.Context,
    brief: Annotated[str, typer.Argument(metavar="BRIEF", help="Brief file: markdown/text, YAML requirements, GitHub issue JSON, or - for stdin.")],
    repo: Annotated[str, typer.Option("--repo", metavar="DIR", help="Repository the plan is about.")] = ".",
    base_url: BaseURLOption = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", metavar="PATH", help="Plan file or directory. Default: implementation-plans/<slug>/plan.md")
    ] = None,
    output: Annotated[
        PlanFormat, typer.Option("--format", help="md: human messages; json: one JSON report on stdout.")
    ] = PlanFormat.md,
    flags: Flags = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing plan.")] = False,
    no_review: Annotated[
        bool, typer.Option("--no-review", help="Skip the whole-plan review call after the sections are checked.")
    ] = False,
) -> None:
    """Draft a plan for BRIEF in the template's shape, section by section, and check it.

    Writes plan.md and plan.json. Exit 0: complete plan; 3: plan written but findings remain;
    2: bad usage; 1: nothing useful could be written.
    """
    from agent.session import DraftRequest, draft_report

    request = DraftRequest(brief=brief, repo=repo, out=out, force=force, review=not no_review)
    with user_errors():
        run = session(ctx, flags or {}, repo, base_url=base_url)
        outcome = run.run_draft(request, progress=lambda line: typer.echo(line, err=True))
    if output is PlanFormat.json:
        print_json(draft_report(outcome))
    else:
        state = _findings_to_stderr(outcome.result, str(outcome.plan_path))
        typer.echo(f"plan written to {outcome.plan_path} ({state}); report in {outcome.json_path}", err=True)
    raise typer.Exit(0 if outcome.result.complete else EXIT_FINDINGS)


def _findings_to_stderr(result: Any, path: str) -> str:
    """Each finding as an IDE-readable line on stderr; returns the one-word state for the summary."""
    for finding in result.findings:
        typer.echo(finding.format(path), err=True)
    return "complete" if result.complete else f"{len(result.findings)} finding(s) remain"


@app.command("validate")
@with_settings("template")
def validate(
    ctx: typer.Context,
    plan: Annotated[str, typer.Argument(metavar="PLAN", help="The plan markdown file to check.")],
    flags: Flags = None,
    repo: Annotated[
        str | None, typer.Option("--repo", metavar="DIR", help="Repository root: check that named files exist (or not).")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
) -> None:
    """Check a plan against its template: placeholders, missing or reordered headings, empty sections,
    enum values, table columns, and with --repo the files it names.

    Prints PLAN:LINE:COL: severity: message. Exit 0 without errors, 3 with errors, 2 on bad usage.
    """
    from agent.check.validate import has_errors, validate_file

    with user_errors():
        compiled = session(ctx, flags or {}, repo or ".", plan=plan).template()
        findings = validate_file(plan, compiled, repo)
    errors = sum(1 for finding in findings if finding.severity == "error")
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "plan_path": plan, "template": compiled.name, "valid": errors == 0,
                    "errors": errors, "warnings": len(findings) - errors,
                    "findings": [finding.as_dict() for finding in findings]})
    else:
        for finding in findings:
            typer.echo(finding.format(plan))
        verdict = "ok" if errors == 0 else "needs work"
        typer.echo(f"{plan}: {verdict}: {errors} error(s), {len(findings) - errors} warning(s)", err=True)
    raise typer.Exit(EXIT_FINDINGS if has_errors(findings) else 0)


@app.command("context")
@with_settings("context_tokens")
def context(
    ctx: typer.Context,
    brief: Annotated[str, typer.Argument(metavar="BRIEF", help="Brief file, or - for stdin.")],
    repo: Annotated[str, typer.Option("--repo", metavar="DIR", help="Repository to read.")] = ".",
    flags: Flags = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
) -> None:
    """Show what `plan draft` would send about the repository: manifest, outline, what was cut."""
    from pathlib import Path

    from agent.context import context_for_brief, format_text, to_json
    from agent.context.brief import read_brief

    with user_errors():
        config = session(ctx, flags or {}, repo).settings
        built = context_for_brief(Path(repo), read_brief(brief), config.context_tokens, output_dir=Path(config.out_dir))
    if output is OutputFormat.json:
        print_json(to_json(built))
    else:
        typer.echo(format_text(built))




# --- revise, mcp, config (agent/draft/revise.py, agent/mcp_server.py, agent/config.py) ---------------------------


@app.command("revise")
@with_settings("template", "model", "max_rounds", "concurrency", "max_cost", "context_tokens", "timeout", "deadline",
               model="As for `plan draft`.", max_cost="US dollar cap for this revision.")
def revise(
    ctx: typer.Context,
    plan: Annotated[str, typer.Argument(metavar="PLAN", help="The plan markdown file to revise in place.")],
    section: Annotated[
        list[str] | None, typer.Option("--section", "-s", metavar="SECTION", help="Section to draft again, by name or heading (repeatable).")
    ] = None,
    failing: Annotated[bool, typer.Option("--failing", help="Draft again every section with error findings.")] = False,
    note: Annotated[str, typer.Option("--note", metavar="TEXT", help="What to change; sent to the model with the section.")] = "",
    repo: Annotated[str, typer.Option("--repo", metavar="DIR", help="Repository the plan is about.")] = ".",
    brief: Annotated[
        str | None, typer.Option("--brief", metavar="BRIEF", help="The brief. Default: the one plan.json names, if it still exists.")
    ] = None,
    base_url: BaseURLOption = None,
    output: Annotated[PlanFormat, typer.Option("--format", help="md: human messages; json: one JSON report.")] = PlanFormat.md,
    flags: Flags = None,
) -> None:
    """Draft one section of an existing plan again (or each failing one), keep every other byte, re-check it.

    Exit 0: no error findings remain; 3: findings remain; 2: bad usage; 1: nothing could be drafted.
    """
    from agent.draft.revise import ReviseRequest, revise_report, run_revise

    request = ReviseRequest(plan=plan, sections=tuple(section or ()), failing=failing, note=note, repo=repo,
                            brief=brief)
    with user_errors():
        run = session(ctx, flags or {}, repo, base_url=base_url, plan=plan)
        outcome = run_revise(request, run, progress=lambda line: typer.echo(line, err=True))
    if output is PlanFormat.json:
        print_json(revise_report(outcome))
    else:
        state = _findings_to_stderr(outcome.result, plan)
        typer.echo(f"{plan}: revised {', '.join(outcome.revised) or 'nothing'} ({state})", err=True)
    raise typer.Exit(0 if outcome.result.complete else EXIT_FINDINGS)


@app.command("mcp")
def mcp() -> None:
    """Serve draft_plan, validate_plan, list_templates and repo_context to coding agents over MCP (stdio)."""
    with user_errors():
        from agent.mcp_server import serve

        serve()
