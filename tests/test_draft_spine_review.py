"""The plan spine, the whole-plan review and what the loop feeds back, driven by a scripted model;
templates, validation and rendering are real."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from draft_support import GOOD, TRACKED, UNITS
from test_draft_loop import CALL_USAGE, answer, asked, draft, scripted, section_requests

from agent.draft.review import REVIEW
from agent.draft.spine import SPINE
from agent.errors import RejectedError, TransportError
from agent.providers.base import ModelResponse
from agent.providers.offline import OfflineDrafter
from agent.providers.testing import FunctionProvider


def review(*findings: dict[str, str]) -> ModelResponse:
    return ModelResponse({"findings": list(findings)}, "{}", "complete", CALL_USAGE)


def finding(section: str, quote: str, problem: str = "contradiction") -> dict[str, str]:
    return {"section": section, "quote": quote, "problem": problem,
            "explanation": "Tests says the export streams while Risks buffers the whole invoice",
            "fix": "say the rows are streamed, as the tests expect"}


def whole(model: FunctionProvider, **settings: Any) -> Any:
    return draft(model, TRACKED, spine=True, review=True, **settings)


# --- the spine ---------------------------------------------------------------------------------------


def test_the_spine_is_asked_first_and_its_names_reach_every_section_request() -> None:
    model = scripted()
    result = whole(model)
    assert model.requests[0].schema_name == SPINE
    sections = section_requests(model)
    assert sorted(r.schema_name for r in sections) == UNITS
    for request in sections:
        assert "`invoice_csv_download`" in request.shared_prefix  # a new name, spelled once for all
        assert "`src/billing/csv_export.py`: the CSV writer" in request.shared_prefix
        assert "1. CSV writer" in request.shared_prefix
    assert result.spine is not None and result.spine["names"][0]["name"] == "invoice_csv_download"


def test_the_spine_sets_each_section_word_budget() -> None:
    model = scripted()
    whole(model)
    assert "at most about 40 words" in asked(model, "goal")[0].prompt
    assert "at most about 120 words" in asked(model, "plan")[0].prompt


def test_a_section_that_changes_the_spine_amends_it_for_the_later_calls() -> None:
    changed = {"files": copy.deepcopy(GOOD["files"]), "spine_changes": ["csv_export.py is not needed: to_csv writes rows"]}
    model = scripted({"goal": [answer("goal", "TODO")], "files": [ModelResponse(changed, "{}", "complete", CALL_USAGE)]})
    result = whole(model)
    assert result.spine is not None
    assert result.spine["amendments"] == [{"section": "files", "change": "csv_export.py is not needed: to_csv writes rows"}]
    assert "csv_export.py is not needed" in asked(model, REVIEW)[0].shared_prefix
    assert "csv_export.py is not needed" in asked(model, "goal")[1].shared_prefix  # the re-ask sees the amendment
    assert "csv_export.py is not needed" not in asked(model, "goal")[0].shared_prefix


def test_an_unusable_spine_leaves_the_sections_to_go_ahead_without_one() -> None:
    model = scripted({SPINE: [ModelResponse({"summary": "half"}, "{}", "complete", CALL_USAGE)]})
    result = whole(model)
    assert result.spine is None and result.complete
    assert all("<spine>" not in request.shared_prefix for request in section_requests(model))


# --- the review ----------------------------------------------------------------------------------


def test_review_findings_are_re_asked_in_the_section_they_name_only() -> None:
    quote = "Large invoices are slow to export"
    fixed = ["Large invoices stream row by row, so memory stays flat"]
    model = scripted({REVIEW: [review(finding("risks", quote))], "risks": [answer("risks", GOOD["risks"]),
                                                                                 answer("risks", fixed)]})
    result = whole(model)
    assert [r.schema_name for r in model.requests].count(REVIEW) == 1
    re_asked = asked(model, "risks")[1].prompt
    assert "whole-plan review found a problem (contradiction)" in re_asked and quote in re_asked
    assert all(len(asked(model, unit)) == 1 for unit in UNITS if unit != "risks")
    assert result.review is not None and result.review[0].status == "revised"
    assert result.complete and result.plan["risks"] == fixed


def test_a_review_finding_that_quotes_nothing_in_its_section_is_dropped_not_re_asked() -> None:
    model = scripted({REVIEW: [review(finding("goal", "Large invoices are slow to export"))]})  # risks' words
    result = whole(model)
    assert len(asked(model, "goal")) == 1
    assert result.review is not None and result.review[0].status == "dropped"


def test_a_review_finding_the_section_keeps_is_reported_as_a_warning_and_not_asked_again() -> None:
    quote = "Large invoices are slow to export"
    model = scripted({REVIEW: [review(finding("risks", quote))]})  # risks answers the same text again
    result = whole(model, max_rounds=3)
    assert len(asked(model, "risks")) == 2
    kept = [f for f in result.findings if f.code == "review-contradiction"]
    assert [f.severity for f in kept] == ["warning"] and result.complete
    assert result.review is not None and result.review[0].status == "unchanged"


def test_no_review_means_no_review_call() -> None:
    model = scripted()
    result = draft(model, TRACKED, spine=True, review=False)
    assert REVIEW not in {r.schema_name for r in model.requests} and result.review is None


def test_the_offline_drafter_makes_neither_spine_nor_review_calls() -> None:
    from draft_support import BRIEF, TEMPLATE

    drafter = OfflineDrafter(TEMPLATE, BRIEF, None)
    model = FunctionProvider(drafter.complete, name=drafter.name, capabilities=drafter.capabilities)
    import asyncio

    from agent.draft.loop import DraftSettings, draft_plan
    result = asyncio.run(draft_plan(TEMPLATE, BRIEF, model, "", None, DraftSettings(max_rounds=0)))
    assert sorted(r.schema_name for r in model.requests) == UNITS and result.spine is None and result.review is None


def test_calls_are_counted_by_purpose_with_tokens() -> None:
    model = scripted({"goal": [answer("goal", "TODO")]})
    result = whole(model)
    calls = {purpose: entry["calls"] for purpose, entry in result.by_purpose.items()}
    assert calls == {"spine": 1, "section": len(UNITS), "review": 1, "reask": 1}
    assert result.by_purpose["section"]["input_tokens"] == 1000 * len(UNITS)
    assert sum(calls.values()) == result.usage.calls


# --- what goes back to the model -----------------------------------------------------------------


def test_warnings_never_appear_in_a_re_ask() -> None:
    # `src/billing/models.py` is named in the goal but not listed among the files: a warning, never sent.
    goal = "Finance downloads invoices as CSV; TODO decide the columns; totals come from `src/billing/models.py`."
    tracked = TRACKED | {"src/billing/models.py"}
    once = draft(scripted({"goal": [answer("goal", goal)]}), tracked, max_rounds=0)
    assert {(f.severity, f.code) for f in once.findings if f.unit == "goal"} == {("error", "placeholder"),
                                                                                ("warning", "unlisted-file")}
    kept = "Finance downloads invoices as CSV; totals come from `src/billing/models.py`."
    model = scripted({"goal": [answer("goal", goal), answer("goal", kept)]})
    result = draft(model, tracked)
    re_ask = asked(model, "goal")[1].prompt
    assert "TODO" in re_ask and "not among the files to modify" not in re_ask
    assert result.complete


def test_a_re_answer_with_fewer_real_paths_is_discarded() -> None:
    first = {"files_to_modify": ["`src/billing/invoice.py` - add to_csv", "`src/billing/nope.py` - wire it"],
             "files_to_create": ["`src/billing/csv_export.py` - the CSV writer"]}
    vague = {"files_to_modify": ["the invoice module - add to_csv"],
             "files_to_create": ["`src/billing/csv_export.py` - the CSV writer"]}
    model = scripted({"files": [answer("files", first), answer("files", vague)]})
    result = draft(model, TRACKED)
    assert result.plan["files"] == first
    discarded = [f for f in result.findings if f.code == "reanswer-discarded"]
    assert discarded and discarded[0].unit == "files"
    assert "0 real repository path(s) instead of 1" in discarded[0].message
    assert any(f.code == "path-missing" for f in result.findings)  # the earlier answer's problem is still reported


def test_a_re_answer_that_brings_a_problem_back_is_discarded() -> None:
    todo = "TODO: decide who downloads"
    placeholder = "Finance downloads {{FORMAT}} files from the invoice page."
    model = scripted({"goal": [answer("goal", todo), answer("goal", placeholder), answer("goal", todo)]})
    result = draft(model, TRACKED, max_rounds=2)
    assert len(asked(model, "goal")) == 3
    assert result.plan["goal"] == placeholder
    discarded = [f for f in result.findings if f.code == "reanswer-discarded"]
    assert len(discarded) == 1 and "brought back" in discarded[0].message and "TODO" in discarded[0].message


def test_each_section_request_names_its_heading_guidance_budget_and_today() -> None:
    model = scripted()
    whole(model, today=date(2026, 3, 4))
    goal = asked(model, "goal")[0]
    assert "Heading: ## Goal" in goal.prompt
    assert "One paragraph: the outcome, and how we will know it worked." in goal.prompt  # the template's guidance
    assert "at most about 40 words" in goal.prompt
    files = asked(model, "files")[0].prompt
    assert 'sub-headings "Files to modify", "Files to create"' in files
    assert all("Today is 2026-03-04." in request.shared_prefix for request in model.requests)


def test_a_review_finding_left_after_the_last_round_is_a_warning_not_a_failure() -> None:
    model = scripted({REVIEW: [review(finding("risks", "Large invoices are slow to export"))]})
    result = whole(model, max_rounds=0)
    assert [(f.severity, f.code) for f in result.findings] == [("warning", "review-contradiction")]
    assert result.complete


def test_without_a_spine_no_section_request_is_told_to_follow_one() -> None:
    model = scripted()
    draft(model, TRACKED, spine=False, review=False)
    assert all("the spine's" not in request.prompt for request in model.requests)
    with_spine = scripted()
    whole(with_spine)
    assert all("the spine's" in request.prompt for request in section_requests(with_spine))


def test_a_re_answer_may_drop_a_real_path_its_findings_asked_to_drop() -> None:
    # The review says the frozen view must not change: dropping that real path is the fix, not lost grounding.
    quote = "`src/billing/views.py` - add the route"
    note = {"section": "files", "quote": quote, "problem": "contradiction",
            "explanation": "Plan keeps `src/billing/views.py` frozen", "fix": "drop `src/billing/views.py`"}
    fixed = {"files_to_modify": ["`src/billing/invoice.py` - add to_csv and the route"],
             "files_to_create": ["`src/billing/csv_export.py` - the CSV writer"]}
    model = scripted({REVIEW: [review(note)], "files": [answer("files", GOOD["files"]), answer("files", fixed)]})
    result = whole(model)
    assert result.plan["files"] == fixed
    assert not [f for f in result.findings if f.code == "reanswer-discarded"]


def test_a_provider_unreachable_through_the_spine_call_ends_the_draft_without_more_waiting() -> None:
    model = scripted({SPINE: [TransportError("openai: could not connect")]})
    with pytest.raises(TransportError, match="could not connect"):
        whole(model)
    assert [request.schema_name for request in model.requests] == [SPINE]  # no section waited on it again


def test_a_spine_stopped_by_the_cost_cap_or_refused_leaves_the_sections_to_go_ahead() -> None:
    model = scripted({SPINE: [RejectedError("openai: the request was rejected (400)")]})
    result = whole(model)
    assert result.spine is None and result.complete
    assert sorted(r.schema_name for r in section_requests(model)) == UNITS


def test_guidance_too_long_for_the_request_is_cut_between_lines_and_says_so() -> None:
    from agent.draft.prompts import _whole_lines

    lines = [f"- field {n}: what the template asks for, in a sentence of some length" for n in range(100)]
    text = _whole_lines(lines, 2_000)
    *kept, note = text.split("\n")
    assert kept == lines[: len(kept)] and len(text) <= 2_100
    assert note == f"(and {100 - len(kept)} more lines of guidance, in the schema's field descriptions)"


def test_a_section_that_broke_its_schema_is_re_asked_with_its_answer_before_the_review_reads_the_plan() -> None:
    """Seen through the relay: one field of the wrong type threw the whole section away, the review read its
    empty frame (`Chosen option: "", because .`), and the re-ask said only "(no usable answer)"."""
    wrong = {**GOOD["header"], "size": {"value": "S"}}
    model = scripted({"header": [answer("header", wrong)]})

    result = whole(model)

    reask = asked(model, "header")[1].prompt
    assert '"feature": "Invoice CSV export"' in reask  # the answer it gave, to fix the one field
    order = [request.schema_name for request in model.requests]
    assert order.index(REVIEW) > [i for i, name in enumerate(order) if name == "header"][1]
    assert result.complete
