"""`plan draft`, `validate`, `revise`, `context` and `mcp`: one plan at a time."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from agent.cli.app import (
    EXIT_FINDINGS,
    DeadlineOption,
    OutputFormat,
    TemplateOption,
    TimeoutOption,
    app,
    print_json,
    user_errors,
)


class PlanFormat(StrEnum):
    md = "md"
    json = "json"


@app.command("draft")
def draft(
    brief: Annotated[str, typer.Argument(help="Brief file: markdown/text, YAML requirements, GitHub issue JSON, or - for stdin.")],
    template: TemplateOption = None,
    repo: Annotated[str, typer.Option("--repo", help="Repository the plan is about.")] = ".",
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="openai:MODEL, anthropic:MODEL, ollama:MODEL or offline. "
                     "Default: a model for whichever API key is set, else offline."),
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server URL (vLLM, LM Studio, OpenRouter).")
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Plan file or directory. Default: implementation-plans/<slug>/plan.md")
    ] = None,
    output: Annotated[
        PlanFormat, typer.Option("--format", help="md: human messages; json: one JSON report on stdout.")
    ] = PlanFormat.md,
    max_rounds: Annotated[int | None, typer.Option("--max-rounds", help="Re-ask rounds for failing sections [2].")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", help="Section calls in flight at once [8].")] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Stop before a call that could pass this many US dollars.")
    ] = None,
    context_tokens: Annotated[
        int | None, typer.Option("--context-tokens", help="Budget for repository context, in tokens [12000].")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing plan.")] = False,
    timeout: TimeoutOption = None,
    deadline: DeadlineOption = None,
    no_review: Annotated[
        bool, typer.Option("--no-review", help="Skip the whole-plan review call after the sections are checked.")
    ] = False,
) -> None:
    """Draft a plan for BRIEF in the template's shape, section by section, and check it.

    Writes plan.md and plan.json. Exit 0: complete plan; 3: plan written but findings remain;
    2: bad usage; 1: nothing useful could be written.
    """
    import os

    from agent.session import DraftRequest, draft_report, run_draft

    request = DraftRequest(brief, template=template, repo=repo, model=model, base_url=base_url, out=out,
                           max_rounds=max_rounds, concurrency=concurrency, max_cost_usd=max_cost, force=force,
                           context_tokens=context_tokens, timeout=timeout, deadline=deadline,
                           review=not no_review)
    with user_errors():
        outcome = run_draft(request, dict(os.environ), progress=lambda line: typer.echo(line, err=True))
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
def validate(
    plan: Annotated[str, typer.Argument(help="The plan markdown file to check.")],
    template: TemplateOption = None,
    repo: Annotated[
        str | None, typer.Option("--repo", help="Repository root: check that named files exist (or not).")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
) -> None:
    """Check a plan against its template: placeholders, missing or reordered headings, empty sections,
    enum values, table columns, and with --repo the files it names.

    Prints PLAN:LINE:COL: severity: message. Exit 0 without errors, 3 with errors, 2 on bad usage.
    """
    import os

    from agent.check.validate import has_errors, validate_file
    from agent.config import settings_for_plan
    from agent.template.catalog import load_template

    with user_errors():
        compiled = load_template(settings_for_plan(plan, {"template": template}, os.environ, repo or ".").template)
        findings = validate_file(plan, compiled, repo)
    if output is OutputFormat.json:
        print_json(_validation_report(plan, compiled.name, findings))
    else:
        for finding in findings:
            typer.echo(finding.format(plan))
        _summary(plan, findings)
    raise typer.Exit(EXIT_FINDINGS if has_errors(findings) else 0)


def _validation_report(plan: str, template: str, findings: list[Any]) -> dict[str, Any]:
    errors = sum(1 for finding in findings if finding.severity == "error")
    return {
        "schema_version": 1,
        "plan_path": plan,
        "template": template,
        "valid": errors == 0,
        "errors": errors,
        "warnings": len(findings) - errors,
        "findings": [finding.as_dict() for finding in findings],
    }


def _summary(plan: str, findings: list[Any]) -> None:
    errors = sum(1 for finding in findings if finding.severity == "error")
    warnings = len(findings) - errors
    verdict = "ok" if errors == 0 else "needs work"
    typer.echo(f"{plan}: {verdict}: {errors} error(s), {warnings} warning(s)", err=True)


@app.command("context")
def context(
    brief: Annotated[str, typer.Argument(help="Brief file, or - for stdin.")],
    repo: Annotated[str, typer.Option("--repo", help="Repository to read.")] = ".",
    context_tokens: Annotated[int | None, typer.Option("--context-tokens", help="Budget in tokens [12000].")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
) -> None:
    """Show what `plan draft` would send about the repository: manifest, outline, what was cut."""
    import os
    from pathlib import Path

    from agent.config import resolve_settings
    from agent.context import context_for_brief, format_text, to_json
    from agent.context.brief import read_brief

    with user_errors():
        config = resolve_settings({"context_tokens": context_tokens}, os.environ, repo)
        built = context_for_brief(Path(repo), read_brief(brief), config.context_tokens, output_dir=Path(config.out_dir))
    if output is OutputFormat.json:
        print_json(to_json(built))
    else:
        typer.echo(format_text(built))




# --- revise, mcp, config (agent/draft/revise.py, agent/mcp_server.py, agent/config.py) ---------------------------


@app.command("revise")
def revise(
    plan: Annotated[str, typer.Argument(help="The plan markdown file to revise in place.")],
    section: Annotated[
        list[str] | None, typer.Option("--section", "-s", help="Section to draft again, by name or heading (repeatable).")
    ] = None,
    failing: Annotated[bool, typer.Option("--failing", help="Draft again every section with error findings.")] = False,
    note: Annotated[str, typer.Option("--note", help="What to change; sent to the model with the section.")] = "",
    template: TemplateOption = None,
    repo: Annotated[str, typer.Option("--repo", help="Repository the plan is about.")] = ".",
    brief: Annotated[
        str | None, typer.Option("--brief", help="The brief. Default: the one plan.json names, if it still exists.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="As for `plan draft`.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server URL.")] = None,
    output: Annotated[PlanFormat, typer.Option("--format", help="md: human messages; json: one JSON report.")] = PlanFormat.md,
    max_rounds: Annotated[int | None, typer.Option("--max-rounds", help="Re-ask rounds [2].")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", help="Section calls in flight [8].")] = None,
    max_cost: Annotated[float | None, typer.Option("--max-cost", help="US dollar cap for this revision.")] = None,
    context_tokens: Annotated[int | None, typer.Option("--context-tokens", help="Context budget [12000].")] = None,
    timeout: TimeoutOption = None,
    deadline: DeadlineOption = None,
) -> None:
    """Draft one section of an existing plan again (or each failing one), keep every other byte, re-check it.

    Exit 0: no error findings remain; 3: findings remain; 2: bad usage; 1: nothing could be drafted.
    """
    import os

    from agent.draft.revise import ReviseRequest, revise_report, run_revise

    request = ReviseRequest(plan, tuple(section or ()), failing, note, template=template, repo=repo, brief=brief,
                            model=model, base_url=base_url, max_rounds=max_rounds, concurrency=concurrency,
                            max_cost_usd=max_cost, context_tokens=context_tokens, timeout=timeout,
                            deadline=deadline)
    with user_errors():
        outcome = run_revise(request, dict(os.environ), progress=lambda line: typer.echo(line, err=True))
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
