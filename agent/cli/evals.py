"""`plan eval` and `plan eval compare`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from agent.cli.app import EXIT_FINDINGS, BaseURLOption, Flags, app, session, user_errors, with_settings

eval_app = typer.Typer(help="Measure plan quality, cost and speed on a fixed case set.")
app.add_typer(eval_app, name="eval")


class ReplayMatch(StrEnum):
    exact = "exact"
    section = "section"


@eval_app.callback(invoke_without_command=True)
@with_settings("model", "max_rounds", "concurrency", model="PROVIDER:MODEL or offline (default).")
def eval_cases(
    ctx: typer.Context,
    cases: Annotated[str, typer.Option("--cases", metavar="DIR", help="Folder of case folders.")] = "evals/cases",
    only: Annotated[list[str] | None, typer.Option("--case", metavar="NAME", help="Run only this case (repeatable).")] = None,
    base_url: BaseURLOption = None,
    record: Annotated[str | None, typer.Option("--record", metavar="DIR", help="Write every model exchange to cassettes in DIR.")] = None,
    replay: Annotated[str | None, typer.Option("--replay", metavar="DIR", help="Answer from the cassettes in DIR, no network.")] = None,
    replay_match: Annotated[
        ReplayMatch, typer.Option("--replay-match", help="exact: the same requests only; section: a changed "
                                  "prompt gets its section's recorded answer.")
    ] = ReplayMatch.exact,
    judge: Annotated[
        str | None, typer.Option("--judge", metavar="MODEL", help="Also ask this (different) model a yes/no rubric per plan.")
    ] = None,
    out: Annotated[str | None, typer.Option("--out", "-o", metavar="FILE", help="Write the JSON report here, and a .md summary.")] = None,
    plans: Annotated[str | None, typer.Option("--plans", metavar="DIR", help="Also write each case's plan to DIR/<case>.md.")] = None,
    flags: Flags = None,
) -> None:
    """Draft every case's plan, grade it, and print a table per case; `plan eval compare` compares reports.

    Exit 0 when the cases ran; 2 on bad usage; 1 when the model could not be used. Settings come from these
    options alone, not the environment or a config file: an eval is the same run on any machine.
    """
    if ctx.invoked_subcommand is not None:
        return
    from pathlib import Path

    from agent.evals.report import format_table, report_json, write_reports
    from agent.evals.suite import EvalRequest, run_eval

    request = EvalRequest(cases_dir=Path(cases), record=Path(record) if record else None,
                          replay=Path(replay) if replay else None, replay_match=replay_match.value,
                          only=tuple(only or ()), judge=judge, plans=Path(plans) if plans else None)
    with user_errors():
        run = session(ctx, flags or {}, base_url=base_url, flags_only=True)
        report = report_json(run_eval(request, run, progress=lambda line: typer.echo(line, err=True)))
        typer.echo(format_table(report))
        if out:
            summary = write_reports(report, Path(out))
            typer.echo(f"report written to {out}; summary in {summary}", err=True)


@eval_app.command("compare")
def eval_compare(
    before: Annotated[str, typer.Argument(metavar="BEFORE", help="The baseline report (JSON from plan eval --out).")],
    after: Annotated[str, typer.Argument(metavar="AFTER", help="The report to judge against it.")],
    threshold: Annotated[
        float, typer.Option("--threshold", metavar="POINTS", help="A score drop larger than this is a regression.")
    ] = 0.05,
    plot: Annotated[str | None, typer.Option("--plot", metavar="PNG", help="Also draw score against cost to this PNG.")] = None,
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
