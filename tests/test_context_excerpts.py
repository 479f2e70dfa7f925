"""Excerpts chosen by the brief: the functions it is about, wherever they sit in the file, and the
definitions of identifiers it names, rather than the head of the file."""

from __future__ import annotations

import re
from pathlib import Path

from context_support import git_repo

from agent.context import build_context
from agent.context.excerpts import chosen_spans
from agent.context.outline import outline


def filler_function(index: int) -> str:
    return (f"def helper_{index}(value: int) -> int:\n    '''Step {index} of the pipeline.'''\n"
            + "".join(f"    value = value * {j} + {index}\n" for j in range(8)) + "    return value\n\n\n")


LONG_MODULE = (
    '"""Billing pipeline."""\n\nimport math\n\n\n'
    + "".join(filler_function(i) for i in range(30))
    + "@audited('billing')\n"
    "def apply_late_fee(invoice: dict, days_overdue: int) -> dict:\n"
    "    '''Add the late fee to an overdue invoice.'''\n"
    "    fee = invoice['total'] * 0.02 * days_overdue\n"
    "    return {**invoice, 'late_fee': fee}\n\n\n"
    + "".join(filler_function(i) for i in range(30, 45))
    + "class RoundingPolicy:\n    def round_cents(self, amount: float) -> float:\n        return math.floor(amount * 100) / 100\n"
)


def excerpt_lines(prompt_text: str, path: str) -> list[tuple[int, int]]:
    header = re.search(rf"^## {re.escape(path)} — lines ([\d, \-]+) of \d+$", prompt_text, re.MULTILINE)
    assert header, f"no excerpt of {path}"
    return [tuple(int(n) for n in span.split("-")) for span in header.group(1).split(", ")]  # type: ignore[misc]


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(next(line for line in text.splitlines() if needle in line)) + 1


def test_the_excerpt_shows_the_function_the_brief_is_about_deep_in_a_long_file(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {"billing/pipeline.py": LONG_MODULE})
    ctx = build_context(repo, "Overdue invoices should get a late fee per day overdue")
    target = line_of(LONG_MODULE, "def apply_late_fee")
    assert target > 300
    assert any(first <= target <= last for first, last in excerpt_lines(ctx.prompt_text, "billing/pipeline.py"))
    assert "fee = invoice['total'] * 0.02 * days_overdue" in ctx.prompt_text
    assert "@audited('billing')\ndef apply_late_fee" in ctx.prompt_text  # with its decorator


def test_stretches_of_one_file_are_separated_and_the_named_identifier_is_defined(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {"billing/pipeline.py": LONG_MODULE})
    ctx = build_context(repo, "Late fees on overdue invoices must use `RoundingPolicy` for the cents")
    spans = excerpt_lines(ctx.prompt_text, "billing/pipeline.py")
    policy = line_of(LONG_MODULE, "class RoundingPolicy")
    assert len(spans) >= 2 and "\n⋮\n" in ctx.prompt_text
    assert any(first <= policy <= last for first, last in spans)
    assert any(first <= line_of(LONG_MODULE, "def apply_late_fee") <= last for first, last in spans)


def test_chosen_spans_fit_the_budget_and_fall_back_to_the_head() -> None:
    entries = outline("pipeline.py", LONG_MODULE)
    spans = chosen_spans(LONG_MODULE, entries, ("late", "fee"), (), max_tokens=100)
    assert sum(len("\n".join(LONG_MODULE.splitlines()[a:b])) for a, b in spans) <= 400
    assert chosen_spans(LONG_MODULE, entries, ("nothing",), (), max_tokens=50)[0][0] == 0
