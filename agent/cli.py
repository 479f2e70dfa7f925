"""The `plan` command: argument parsing only; each command calls one library function.

Library modules are imported inside the commands so that `plan --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer

from agent import __version__

app = typer.Typer(
    help="Draft implementation plans in your team's own template, then check them.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
templates_app = typer.Typer(help="List, inspect and compile plan templates.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")

EXIT_FINDINGS = 3


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"plan-agent {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Draft implementation plans in your team's own template, then check them."""


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"plan: error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Our errors become one line on stderr and their exit code; nothing else is caught."""
    from agent.errors import PlanError

    try:
        yield
    except PlanError as error:
        fail(str(error), error.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)


TemplateOption = Annotated[
    str | None, typer.Option("--template", "-t", help="Built-in template name or path to a markdown template.")
]


@templates_app.command("list")
def templates_list() -> None:
    """List the built-in templates."""
    from agent.catalog import builtin_templates, load_template

    with user_errors():
        for name in builtin_templates():
            template = load_template(name)
            typer.echo(f"{name}\t{len(template.units)} sections")


@templates_app.command("show")
def templates_show(name: Annotated[str, typer.Argument(help="Built-in template name or path.")]) -> None:
    """Show the sections and fields a template compiles to."""
    from agent.catalog import load_template
    from agent.outline import describe_template

    with user_errors():
        typer.echo(describe_template(load_template(name)))


@templates_app.command("schema")
def templates_schema(name: Annotated[str, typer.Argument(help="Built-in template name or path.")]) -> None:
    """Print the JSON schema of a whole plan for this template (OpenAI strict-mode compatible)."""
    from agent.catalog import load_template
    from agent.schema import json_schema, plan_model

    with user_errors():
        typer.echo(json.dumps(json_schema(plan_model(load_template(name))), indent=2))


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

    from agent.catalog import load_template
    from agent.config import settings_for_plan
    from agent.validate import has_errors, validate_file

    with user_errors():
        compiled = load_template(settings_for_plan(plan, {"template": template}, os.environ, repo or ".").template)
        findings = validate_file(plan, compiled, repo)
    if output is OutputFormat.json:
        _print_json(_validation_report(plan, compiled.name, findings))
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


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


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
) -> None:
    """Draft a plan for BRIEF in the template's shape, section by section, and check it.

    Writes plan.md and plan.json. Exit 0: complete plan; 3: plan written but findings remain;
    2: bad usage; 1: nothing useful could be written.
    """
    import os

    from agent.run import DraftRequest, draft_report, run_draft

    request = DraftRequest(brief, template, repo, model, base_url, out, max_rounds, concurrency, max_cost, force,
                           context_tokens)
    with user_errors():
        outcome = run_draft(request, dict(os.environ), progress=lambda line: typer.echo(line, err=True))
    result = outcome.result
    if output is PlanFormat.json:
        _print_json(draft_report(outcome))
    else:
        for finding in result.findings:
            typer.echo(finding.format(str(outcome.plan_path)), err=True)
        state = "complete" if result.complete else f"{len(result.findings)} finding(s) remain"
        typer.echo(f"plan written to {outcome.plan_path} ({state}); report in {outcome.json_path}", err=True)
    raise typer.Exit(0 if result.complete else EXIT_FINDINGS)


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

    from agent.brief import read_brief
    from agent.config import resolve_settings
    from agent.context import context_for_brief, format_text, to_json

    with user_errors():
        tokens = resolve_settings({"context_tokens": context_tokens}, os.environ, repo).context_tokens
        built = context_for_brief(Path(repo), read_brief(brief), tokens)
    if output is OutputFormat.json:
        _print_json(to_json(built))
    else:
        typer.echo(format_text(built))


class BatchVia(StrEnum):
    direct = "direct"
    batch_api = "batch-api"


@app.command("batch")
def batch(
    source: Annotated[str, typer.Argument(help="A directory of briefs, a .jsonl or .csv backlog (id, title, body, "
                                               "labels), or a GitHub issues export (.json array).")],
    template: TemplateOption = None,
    repo: Annotated[str, typer.Option("--repo", help="Repository the plans are about.")] = ".",
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="openai:MODEL, anthropic:MODEL, ollama:MODEL or offline.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server URL (vLLM, LM Studio, OpenRouter).")
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Directory for OUT/<id>-<slug>/plan.md and the manifest. "
                                 "Default: implementation-plans")
    ] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", help="Items drafted at once [8].")] = None,
    rpm: Annotated[int | None, typer.Option("--rpm", help="Requests per minute to stay under (learnt from the "
                                            "provider's rate-limit headers when not given).")] = None,
    tpm: Annotated[int | None, typer.Option("--tpm", help="Tokens per minute to stay under.")] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Stop before a call that could take the whole batch past this many US dollars.")
    ] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Draft the failed items again too.")] = False,
    via: Annotated[BatchVia, typer.Option("--via", help="direct: one call per section; batch-api: the provider's "
                                          "batch API, at half price, answers within 24 hours.")] = BatchVia.direct,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text: progress and a summary table; json: a JSON line per item, then a summary line.")
    ] = OutputFormat.text,
    max_rounds: Annotated[int | None, typer.Option("--max-rounds", help="Re-ask rounds for failing sections [2].")] = None,
    context_tokens: Annotated[
        int | None, typer.Option("--context-tokens", help="Budget for repository context, in tokens [12000].")
    ] = None,
) -> None:
    """Draft a plan for every item of a backlog, as `plan draft` would, resumably and within rate limits.

    Re-running the same command skips finished items and redoes unfinished ones. Exit 0: every plan
    complete; 3: every item drafted, some with findings; 1: items failed or were not drafted; 2: bad usage.
    """
    import os

    from agent.batch.display import JsonLinesDisplay, TextDisplay
    from agent.batch.runner import BatchRequest, run_batch

    request = BatchRequest(source, template, repo, model, base_url, out, concurrency, rpm, tpm, max_cost,
                           retry_failed, via.value, max_rounds, context_tokens)
    display = JsonLinesDisplay() if output is OutputFormat.json else TextDisplay()
    with user_errors(), display:
        summary = run_batch(request, dict(os.environ), display)
    display.summary(summary)
    raise typer.Exit(summary.exit_code)


eval_app = typer.Typer(help="Measure plan quality, cost and speed on a fixed case set.")
app.add_typer(eval_app, name="eval")


class ReplayMatch(StrEnum):
    exact = "exact"
    section = "section"


@eval_app.callback(invoke_without_command=True)
def eval_cases(
    ctx: typer.Context,
    cases: Annotated[str, typer.Option("--cases", help="Folder of case folders.")] = "evals/cases",
    only: Annotated[list[str] | None, typer.Option("--case", help="Run only this case (repeatable).")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="PROVIDER:MODEL or offline (default).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible server URL.")] = None,
    record: Annotated[str | None, typer.Option("--record", help="Write every model exchange to cassettes in DIR.")] = None,
    replay: Annotated[str | None, typer.Option("--replay", help="Answer from the cassettes in DIR, no network.")] = None,
    replay_match: Annotated[
        ReplayMatch, typer.Option("--replay-match", help="exact: the same requests only; section: a changed "
                                  "prompt gets its section's recorded answer.")
    ] = ReplayMatch.exact,
    judge: Annotated[
        str | None, typer.Option("--judge", help="Also ask this (different) model a yes/no rubric per plan.")
    ] = None,
    out: Annotated[str | None, typer.Option("--out", "-o", help="Write the JSON report here, and a .md summary.")] = None,
    plans: Annotated[str | None, typer.Option("--plans", help="Also write each case's plan to DIR/<case>.md.")] = None,
    max_rounds: Annotated[int, typer.Option("--max-rounds", help="Re-ask rounds for failing sections.")] = 2,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Section calls in flight at once.")] = 8,
) -> None:
    """Draft every case's plan, grade it, and print a table per case; `plan eval compare` compares reports.

    Exit 0 when the cases ran; 2 on bad usage; 1 when the model could not be used.
    """
    if ctx.invoked_subcommand is not None:
        return
    import os
    from pathlib import Path

    from agent.evals.report import format_table, report_json, write_reports
    from agent.evals.runner import EvalSettings, run_eval

    settings = EvalSettings(Path(cases), model, base_url, Path(record) if record else None,
                            Path(replay) if replay else None, replay_match.value, tuple(only or ()), judge,
                            Path(plans) if plans else None, max_rounds, concurrency)
    with user_errors():
        report = report_json(run_eval(settings, dict(os.environ), progress=lambda line: typer.echo(line, err=True)))
        typer.echo(format_table(report))
        if out:
            summary = write_reports(report, Path(out))
            typer.echo(f"report written to {out}; summary in {summary}", err=True)


@eval_app.command("compare")
def eval_compare(
    before: Annotated[str, typer.Argument(help="The baseline report (JSON from plan eval --out).")],
    after: Annotated[str, typer.Argument(help="The report to judge against it.")],
    threshold: Annotated[
        float, typer.Option("--threshold", help="A score drop larger than this is a regression.")
    ] = 0.05,
    plot: Annotated[str | None, typer.Option("--plot", help="Also draw score against cost to this PNG.")] = None,
) -> None:
    """Show which scores got better or worse. Exit 3 on a regression beyond --threshold, 2 on bad usage."""
    from pathlib import Path

    from agent.evals.compare import compare_reports, format_comparison
    from agent.evals.report import read_report

    with user_errors():
        if plot:
            from agent.evals.plot import require_matplotlib

            require_matplotlib()
        reports = [read_report(Path(before)), read_report(Path(after))]
        comparison = compare_reports(reports[0], reports[1], threshold)
        typer.echo(format_comparison(comparison, before, after))
        if plot:
            from agent.evals.plot import plot_reports

            plot_reports(reports, Path(plot))
            typer.echo(f"plot written to {plot}", err=True)
    raise typer.Exit(EXIT_FINDINGS if comparison.regressions else 0)


# --- revise, mcp, config (agent/revise.py, agent/mcp_server.py, agent/config.py) ---------------------------


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
) -> None:
    """Draft one section of an existing plan again (or each failing one), keep every other byte, re-check it.

    Exit 0: no error findings remain; 3: findings remain; 2: bad usage; 1: nothing could be drafted.
    """
    import os

    from agent.revise import ReviseRequest, revise_report, run_revise

    request = ReviseRequest(plan, tuple(section or ()), failing, note, template, repo, brief, model, base_url,
                            max_rounds, concurrency, max_cost, context_tokens)
    with user_errors():
        outcome = run_revise(request, dict(os.environ), progress=lambda line: typer.echo(line, err=True))
    result = outcome.result
    if output is PlanFormat.json:
        _print_json(revise_report(outcome))
    else:
        for finding in result.findings:
            typer.echo(finding.format(plan), err=True)
        state = "complete" if result.complete else f"{len(result.findings)} finding(s) remain"
        typer.echo(f"{plan}: revised {', '.join(outcome.revised) or 'nothing'} ({state})", err=True)
    raise typer.Exit(0 if result.complete else EXIT_FINDINGS)


@app.command("mcp")
def mcp() -> None:
    """Serve draft_plan, validate_plan, list_templates and repo_context to coding agents over MCP (stdio)."""
    with user_errors():
        from agent.mcp_server import serve

        serve()


config_app = typer.Typer(help="Show the settings plan uses and where each comes from.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def config_show(
    repo: Annotated[str, typer.Option("--repo", help="Repository whose .plan.toml / pyproject.toml to read.")] = ".",
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
) -> None:
    """Print each setting, its value, and where it came from: flag, environment, config file or default."""
    import os

    from agent.config import config_report, format_config, resolve_settings

    with user_errors():
        report = config_report(resolve_settings({}, os.environ, repo), os.environ)
    if output is OutputFormat.json:
        _print_json(report)
    else:
        typer.echo(format_config(report))


def main() -> None:
    run: Callable[[], Any] = app
    run()
