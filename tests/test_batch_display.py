"""What `plan batch` shows while it runs: a live bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import io
from pathlib import Path

from agent.batch.display import TextDisplay
from agent.batch.manifest import ItemRecord
from agent.batch.summary import BatchPlan, ItemOutcome

DONE = ItemRecord("1-export", "Export", "done", True, 0, 0.012, {"input_tokens": 1500, "output_tokens": 500})
FAILED = ItemRecord("2-refund", "Refund", "failed", None, 0, None, {}, error="openai: HTTP 503 after 4 attempts")


def run(display: TextDisplay) -> None:
    display.started(BatchPlan(total=3, todo=2, done_before=1, failed_before=0))
    display.finished(ItemOutcome("1", DONE, Path("plans/1-export/plan.md"), 1.5))
    display.finished(ItemOutcome("2", FAILED, Path("plans/2-refund/plan.md"), 0.5))
    display.stop()


def test_plain_lines_when_not_a_terminal() -> None:
    err = io.StringIO()
    run(TextDisplay(err=err, live=False))
    assert err.getvalue().splitlines() == [
        "drafting 2 of 3 item(s); 1 already done",
        "[1/2] done 1 -> plans/1-export/plan.md (complete, 1.5 s)",
        "[2/2] failed 2: openai: HTTP 503 after 4 attempts",
    ]


def test_live_bar_counts_done_failed_left_tokens_cost_and_eta() -> None:
    err = io.StringIO()
    run(TextDisplay(err=err, live=True))
    shown = err.getvalue()
    assert "done 1 · failed 1 · left 0 · 2,000 tokens · $0.0120" in shown and "ETA" in shown and "2/2" in shown
    assert "failed 2: openai: HTTP 503 after 4 attempts" in shown  # failures are printed above the bar
