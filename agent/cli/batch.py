"""`plan batch`: a whole backlog."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from agent.cli.app import BaseURLOption, Flags, OutputFormat, app, session, user_errors, with_settings
from agent.config import KEYS


class BatchVia(StrEnum):
    direct = "direct"
    batch_api = "batch-api"


@app.command("batch")
@with_settings("template", "model", "max_cost", "rpm", "tpm", "max_rounds", "context_tokens", "timeout", "deadline",
               max_cost="Stop before a call that could take the whole batch past this many US dollars.",
               deadline=f"Seconds one item may take before it is marked failed [{KEYS['deadline'].default:g}].")
def batch(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="A directory of briefs, a .jsonl or .csv backlog (id, title, body, "
                                               "labels), or a GitHub issues export (.json array).")],
    repo: Annotated[str, typer.Option("--repo", metavar="DIR", help="Repository the plans are about.")] = ".",
    base_url: BaseURLOption = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", metavar="DIR", help="Directory for OUT/<id>-<slug>/plan.md and the manifest. "
                                 "Default: implementation-plans")
    ] = None,
    # Not the concurrency setting: that one still bounds each item's section calls.
    workers: Annotated[int | None, typer.Option("--concurrency", metavar="N", help="Items drafted at once "
                                                f"[{KEYS['concurrency'].default}].")] = None,
    flags: Flags = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Draft the failed items again too.")] = False,
    via: Annotated[BatchVia, typer.Option("--via", help="direct: one call per section; batch-api: the provider's "
                                          "batch API, at half price, answers within 24 hours.")] = BatchVia.direct,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text: progress and a summary table; json: a JSON line per item, then a summary line.")
    ] = OutputFormat.text,
) -> None:
    """Draft a plan for every item of a backlog, as `plan draft` would, resumably and within rate limits.

    Re-running the same command skips finished items and redoes unfinished ones. Exit 0: every plan
    complete; 3: every item drafted, some with findings; 1: items failed or were not drafted; 2: bad usage.
    """
    from agent.batch.display import JsonLinesDisplay, TextDisplay
    from agent.batch.runner import BatchRequest, run_batch

    request = BatchRequest(source=source, repo=repo, out=out, workers=workers, retry_failed=retry_failed,
                           via=via.value)
    display = JsonLinesDisplay() if output is OutputFormat.json else TextDisplay()
    with user_errors(), display:
        summary = run_batch(request, session(ctx, flags or {}, repo, base_url=base_url), display)
    display.summary(summary)
    raise typer.Exit(summary.exit_code)
