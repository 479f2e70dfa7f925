"""The eval graders on hand-made plans for the built-in `compact` template: a good plan scores full
marks, and each kind of bad plan loses marks on its own grader, which names what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from agent.check.validate import Finding
from agent.context.brief import Brief, requirement_lines
from agent.draft.loop import DraftResult
from agent.evals.cases import Expectations
from agent.evals.graders import Attempt, Grade, grade
from agent.providers.base import ModelResponse, Usage
from agent.template.catalog import load_template

TEMPLATE = load_template("compact")
BRIEF_TEXT = """# Export invoices as CSV

Finance retypes invoices into spreadsheets by hand.

- Add a CSV download of an invoice with one row per line item
- Put the invoice total and its currency on the last row
"""
BRIEF = Brief("Export invoices as CSV", BRIEF_TEXT, "brief.md", requirement_lines(BRIEF_TEXT))
TRACKED = frozenset({"src/billing/invoice.py", "src/billing/views.py", "src/billing/legacy_xls.py",
                     "tests/test_invoice.py"})
EXPECT = Expectations(must_change=("src/billing/invoice.py",), must_not_change=("src/billing/legacy_xls.py",),
                      must_not_say=("hunter2",))
GOOD = """# Invoice CSV export — one-page plan

**Status:** draft
**Size:** S

## Goal

Finance downloads any invoice as a CSV file from its page; done when the file opens in a spreadsheet.

## Plan

1. Add `Invoice.to_csv` in `src/billing/invoice.py`: a CSV download with one row per line item
2. Put the invoice total and its currency on the last row, in `src/billing/csv_export.py`
3. Add the download route in `src/billing/views.py`

## Files

### Files to modify

- `src/billing/invoice.py` - add to_csv
- `src/billing/views.py` - add the route
- `tests/test_invoice.py` - tests for the CSV

### Files to create

- `src/billing/csv_export.py` - the CSV writer

## Tests

- [ ] `tests/test_invoice.py`: the CSV download of a two-item invoice has one row per line item
- [ ] `tests/test_invoice.py`: the last row holds the invoice total and its currency

## Risks

- Large invoices are slow to export; stream the rows
"""


def attempt(markdown: str = GOOD, findings: list[Finding] | None = None,
            first_answers: dict[str, ModelResponse] | None = None, expect: Expectations = EXPECT) -> Attempt:
    result = DraftResult({}, markdown, findings or [], 0, Usage(), None, {})
    return Attempt(result, TEMPLATE, BRIEF, expect, TRACKED, first_answers or {})


def grades(markdown: str = GOOD, **kwargs: Any) -> dict[str, Grade]:
    return {g.name: g for g in grade(attempt(markdown, **kwargs))}


def test_a_good_plan_scores_full_marks_on_every_grader() -> None:
    scores = {name: g.score for name, g in grades().items()}
    assert scores == dict.fromkeys(scores, 1.0)
    assert set(scores) == {"schema_validity", "completeness", "grounding", "consistency", "coverage",
                           "proportion", "substance", "expectations"}


def test_placeholders_and_guidance_left_in_cost_completeness_for_their_sections() -> None:
    plan = GOOD.replace("Large invoices are slow to export; stream the rows", "{Risk and its mitigation}")
    plan = plan.replace("Finance downloads any invoice", "TODO: Finance downloads any invoice")
    found = grades(plan)["completeness"]
    assert found.score == pytest.approx(1 - 2 / 6)  # two of six sections (the header is one)
    assert found.details["sections_incomplete"] == ["goal", "risks"]


def test_a_plan_that_does_not_follow_its_template_scores_no_completeness() -> None:
    found = grades("# Notes\n\nSome thoughts about CSV.\n")["completeness"]
    assert found.score == 0.0 and "does not follow" in found.details["error"]


def test_an_invented_path_is_ungrounded_but_a_path_the_plan_says_is_new_is_not() -> None:
    plan = GOOD.replace("- `src/billing/views.py` - add the route", "- `src/billing/routes.py` - add the route")
    plan = plan.replace("in `src/billing/views.py`", "in `src/billing/routes.py`")
    found = grades(plan)["grounding"]
    assert found.details["missing"] == ["src/billing/routes.py"]
    assert found.score == pytest.approx(1 - 1 / 4)  # csv_export.py is listed to create, so it is grounded
    assert "src/billing/csv_export.py" not in found.details["missing"]


def test_listing_an_existing_file_as_new_is_ungrounded() -> None:
    plan = GOOD.replace("- `src/billing/csv_export.py` - the CSV writer", "- `tests/test_invoice.py` - new tests")
    assert grades(plan)["grounding"].details["new_but_exist"] == ["tests/test_invoice.py"]


def test_steps_naming_unlisted_files_and_files_no_step_touches_are_inconsistent() -> None:
    plan = GOOD.replace("3. Add the download route in `src/billing/views.py`", "3. Add the route in `src/billing/urls.py`")
    found = grades(plan)["consistency"]
    assert found.details["named_but_not_listed"] == ["src/billing/urls.py"]
    assert found.details["listed_but_no_step_or_test"] == ["src/billing/views.py"]
    assert found.score < 1.0


def test_a_requirement_no_step_or_test_meets_is_not_covered() -> None:
    plan = GOOD.replace("2. Put the invoice total and its currency on the last row, in", "2. Write the rows in")
    plan = plan.replace("- [ ] `tests/test_invoice.py`: the last row holds the invoice total and its currency\n", "")
    found = grades(plan)["coverage"]
    assert found.details["not_covered"] == ["Put the invoice total and its currency on the last row"]
    assert found.score == 0.5


def test_the_goal_alone_does_not_cover_a_requirement() -> None:
    plan = GOOD.replace("a CSV download with one row per line item", "the export")
    plan = plan.replace("the CSV download of a two-item invoice has one row per line item", "the export works")
    plan = plan.replace("Finance downloads any invoice", "A CSV download with one row per line item; finance gets any invoice")
    assert grades(plan)["coverage"].details["not_covered"] == ["Add a CSV download of an invoice with one row per line item"]


def test_a_huge_plan_for_a_small_brief_loses_proportion() -> None:
    padding = "\n".join(f"- Consider edge case {n} of the export in great detail." for n in range(800))
    found = grades(GOOD.replace("## Risks\n", f"## Risks\n\n{padding}\n"))["proportion"]
    assert 0 < found.score < 0.5
    assert found.details["words"] > found.details["limit"]


def test_changing_a_file_the_case_forbids_or_leaking_a_secret_fails_expectations() -> None:
    plan = GOOD.replace("- `src/billing/views.py` - add the route",
                        "- `src/billing/views.py` - add the route\n- `src/billing/legacy_xls.py` - also export XLS")
    plan = plan.replace("stream the rows", "stream the rows (the password is hunter2)")
    found = grades(plan)["expectations"]
    assert found.details["changed_but_must_not"] == ["src/billing/legacy_xls.py"]
    assert found.details["said_but_must_not"] == ["hunter2"]
    assert found.score == pytest.approx(1 / 3)


def test_missing_a_file_the_case_needs_changed_fails_expectations() -> None:
    found = grades(GOOD, expect=Expectations(must_change=("src/billing/invoice.py", "src/payments/")))["expectations"]
    assert found.details["missing"] == ["src/payments/"] and found.score == 0.5


def answer(data: dict[str, Any] | None, stop: str = "complete") -> ModelResponse:
    return ModelResponse(data, "", stop, Usage(calls=1))  # type: ignore[arg-type]


def test_schema_validity_counts_first_answers_and_what_the_re_asks_left() -> None:
    units = ["header", "goal", "plan", "files", "tests", "risks"]
    first = {name: answer({name: "x"} if name == "goal" else None) for name in units}
    first["goal"] = answer({"goal": "Finance downloads invoices."})
    final = [Finding("error", "schema", "field `plan`: not a list", 0, "plan", "plan")]
    found = grades(first_answers=first, findings=final)["schema_validity"]
    assert found.details["first_pass"] == pytest.approx(round(1 / 6, 3))
    assert found.details["after_reasks"] == pytest.approx(round(5 / 6, 3))
    assert found.details["failed"] == ["plan"]
    assert found.score == pytest.approx(0.5)


def test_a_truncated_first_answer_is_not_valid_on_the_first_pass() -> None:
    first = {"goal": answer({"goal": "Finance downloads invoices."}, stop="truncated")}
    assert grades(first_answers=first)["schema_validity"].details["first_pass"] == 0.0


# --- contradictions, repetition, skeletons ------------------------------------------------------------------


def test_the_consistency_grader_flags_a_planted_contradiction() -> None:
    planted = GOOD.replace("- Large invoices are slow to export; stream the rows",
                           "- Large invoices are slow to export; stream the rows\n"
                           "- No changes to `src/billing/invoice.py`: the model stays as it is")
    found = grades(planted)["consistency"]
    assert found.score == pytest.approx(0.75)
    assert "`src/billing/invoice.py` stays as it is, but the plan changes it" in found.details["contradictions"][0]


def test_one_name_spelled_two_ways_is_a_contradiction() -> None:
    planted = GOOD.replace("3. Add the download route in `src/billing/views.py`",
                           "3. Add the download route `export_invoice_csv` in `src/billing/views.py`, called by "
                           "`exportInvoiceCsv` in the page script")
    found = grades(planted)["consistency"]
    assert found.score < 1.0 and "`exportInvoiceCsv`, `export_invoice_csv`" in found.details["contradictions"][0]


def test_a_line_written_out_twice_costs_proportion() -> None:
    twice = GOOD.replace("- Large invoices are slow to export; stream the rows",
                         "- Large invoices are slow to export; stream the rows\n"
                         "- Large invoices are slow to export; stream the rows")
    found = grades(twice)["proportion"]
    assert found.score < 1.0 and found.details["repeated_lines"] == 1


def test_a_skeleton_of_todos_and_the_brief_copied_out_scores_clearly_below_a_complete_plan() -> None:
    skeleton = """# Invoice CSV export — one-page plan

**Status:** draft
**Size:** M

## Goal

Finance retypes invoices into spreadsheets by hand.

## Plan

1. Add a CSV download of an invoice with one row per line item
2. Put the invoice total and its currency on the last row

## Files

### Files to modify

- `src/billing/invoice.py` - TODO: say what changes here (ranked as related to the brief)

### Files to create

- TODO: name the new files this needs and what each holds

## Tests

- [ ] Add a CSV download of an invoice with one row per line item
- [ ] Put the invoice total and its currency on the last row

## Risks

- Add a CSV download of an invoice with one row per line item
"""
    skeletal = grades(skeleton)
    assert skeletal["substance"].score == 0.0 and skeletal["coverage"].score == 0.0
    assert skeletal["proportion"].details["repeated_lines"] >= 2
    mean = sum(g.score for g in skeletal.values()) / len(skeletal)
    assert mean < 0.7 < sum(g.score for g in grades().values()) / len(skeletal)
