"""What `plan batch` shows: a live progress display on a terminal, plain lines otherwise, a summary table
at the end; or, with --format json, one JSON line per item and a final summary line on stdout.

Progress and notes go to stderr; the summary (text) and the JSON lines go to stdout.
"""

from __future__ import annotations

import json
import sys
from types import TracebackType
from typing import IO, Any

from agent.batch.summary import BatchPlan, BatchSummary, ItemOutcome


class Tally:
    """Running totals of this run, for the progress line."""

    def __init__(self) -> None:
        self.todo = self.done = self.failed = self.tokens = 0
        self.cost = 0.0

    def add(self, outcome: ItemOutcome) -> None:
        record = outcome.record
        self.done += record.state == "done"
        self.failed += record.state == "failed"
        self.tokens += record.usage.get("input_tokens", 0) + record.usage.get("output_tokens", 0)
        self.cost += record.cost_usd or 0.0

    def line(self) -> str:
        left = self.todo - self.done - self.failed
        return f"done {self.done} · failed {self.failed} · left {left} · {self.tokens:,} tokens · ${self.cost:.4f}"


class TextDisplay:
    """A rich progress bar (done, failed, left, tokens, cost, ETA) when stderr is a terminal, else plain lines."""

    def __init__(self, err: IO[str] | None = None, out: IO[str] | None = None, live: bool | None = None) -> None:
        self.err, self.out = err or sys.stderr, out or sys.stdout
        self.live = self.err.isatty() if live is None else live
        self.tally = Tally()
        self.progress: Any = None
        self.task: Any = None

    def started(self, plan: BatchPlan) -> None:
        self.tally.todo = plan.todo
        skipped = f"{plan.done_before} already done" + (
            f", {plan.failed_before} failed left as they are (--retry-failed redoes them)" if plan.failed_before else "")
        self.note(f"drafting {plan.todo} of {plan.total} item(s); {skipped}")
        if not (self.live and plan.todo):
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(), console=Console(file=self.err))
        self.progress.start()
        self.task = self.progress.add_task(self.tally.line(), total=plan.todo)

    def finished(self, outcome: ItemOutcome) -> None:
        self.tally.add(outcome)
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=self.tally.line())
            if outcome.record.state == "failed":
                self.progress.console.print(_item_line(outcome, self.tally))
        else:
            print(_item_line(outcome, self.tally), file=self.err, flush=True)

    def note(self, message: str) -> None:
        if self.progress is not None:
            self.progress.console.print(message, markup=False, highlight=False)
        else:
            print(message, file=self.err, flush=True)

    def summary(self, summary: BatchSummary) -> None:
        self.stop()
        from rich.console import Console

        Console(file=self.out, highlight=False).print(summary_table(summary))
        if summary.stopped:
            print(f"plan batch: stopped early: {summary.stopped}", file=self.err)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def __enter__(self) -> TextDisplay:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()


class JsonLinesDisplay:
    """One JSON object per line on stdout: one per item as it ends, then the summary; notes on stderr."""

    def __init__(self, err: IO[str] | None = None, out: IO[str] | None = None) -> None:
        self.err, self.out = err or sys.stderr, out or sys.stdout

    def started(self, plan: BatchPlan) -> None:
        self.note(f"drafting {plan.todo} of {plan.total} item(s)")

    def finished(self, outcome: ItemOutcome) -> None:
        self._line(outcome.as_dict())

    def note(self, message: str) -> None:
        print(message, file=self.err, flush=True)

    def summary(self, summary: BatchSummary) -> None:
        self._line(summary.as_dict())

    def _line(self, data: dict[str, Any]) -> None:
        self.out.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.out.flush()

    def __enter__(self) -> JsonLinesDisplay:
        return self

    def __exit__(self, *_: object) -> None:
        pass


def _item_line(outcome: ItemOutcome, tally: Tally) -> str:
    record = outcome.record
    count = f"[{tally.done + tally.failed}/{tally.todo}]"
    if record.state == "failed":
        return f"{count} failed {outcome.id}: {record.error}"
    state = "complete" if record.complete else f"{record.findings} finding(s)"
    return f"{count} done {outcome.id} -> {outcome.plan_path} ({state}, {outcome.seconds:.1f} s)"


def summary_table(summary: BatchSummary) -> Any:
    from rich.table import Table

    states = summary.states
    table = Table(title=f"plan batch: {summary.out}", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    usage = summary.usage
    rows = [
        ("items", sum(states.values())),
        ("done, complete", summary.complete),
        ("done, with findings", states.get("done", 0) - summary.complete),
        ("failed", states.get("failed", 0)),
        ("not drafted yet", states.get("pending", 0)),
        ("drafted in this run", summary.drafted),
        ("calls", usage.calls),
        ("input tokens (cached)", f"{usage.input_tokens:,} ({usage.cache_read_tokens:,})"),
        ("output tokens", f"{usage.output_tokens:,}"),
        ("cost of this run", "unknown" if summary.cost_usd is None else f"${summary.cost_usd:.4f}"),
        ("cost of every run", f"${summary.spent_usd:.4f}"),
        ("wall time", f"{summary.wall_s:.1f} s"),
        ("model", f"{summary.model} ({summary.via})"),
        ("manifest", str(summary.manifest_path)),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    return table
