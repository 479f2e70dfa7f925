"""The draft loop, driven by a scripted `FunctionProvider` in place of the network; templates, validation and rendering are real."""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from collections.abc import Iterable
from typing import Any

import pytest
from draft_support import BRIEF, GOOD, NO_FINDINGS, SPINE_ANSWER, TEMPLATE, TRACKED, UNITS

from agent.draft.cost import Price
from agent.draft.loop import DraftResult, DraftSettings, draft_plan
from agent.draft.review import REVIEW
from agent.draft.spine import SPINE
from agent.errors import InputError, ProviderError, RejectedError, TransportError
from agent.providers.base import Capabilities, ModelRequest, ModelResponse, Usage
from agent.providers.testing import PLAIN, FunctionProvider
from agent.template.compile import compile_template

CALL_USAGE = Usage(calls=1, input_tokens=1000, output_tokens=200, cache_read_tokens=800)


def answer(unit: str, value: Any, usage: Usage = CALL_USAGE) -> ModelResponse:
    return ModelResponse({unit: value}, "{}", "complete", usage)


def not_json(text: str = "Sure! Here is the section: {goal: ...") -> ModelResponse:
    return ModelResponse(None, text, "complete", CALL_USAGE)


def cut_off() -> ModelResponse:
    return ModelResponse(None, '{"goal": "Finance downl', "truncated", CALL_USAGE)


def refused(reason: str = "I can't help with that.") -> ModelResponse:
    return ModelResponse(None, "", "refused", CALL_USAGE, refusal=reason)


Reply = ModelResponse | Exception


class Script:
    """Stands in for the model behind a `FunctionProvider`: each section answers from its own queue, then
    with its good answer (the spine and review calls with theirs). Keeps the most calls it had in flight at once."""

    def __init__(self, scripts: dict[str, Iterable[Reply]] | None = None, good: dict[str, Any] | None = None) -> None:
        self.queues = {unit: deque(replies) for unit, replies in (scripts or {}).items()}
        self.good = copy.deepcopy(GOOD if good is None else good)
        self.whole = {SPINE: SPINE_ANSWER, REVIEW: NO_FINDINGS}
        self.in_flight = self.max_in_flight = 0

    async def __call__(self, request: ModelRequest) -> ModelResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for _ in range(3):  # let every other ready call start before this one answers
                await asyncio.sleep(0)
            reply = self._next(request.schema_name)
        finally:
            self.in_flight -= 1
        if isinstance(reply, Exception):
            raise reply
        return reply

    def _next(self, unit: str) -> Reply:
        queue = self.queues.get(unit)
        if queue:
            return queue.popleft()
        if unit in self.whole:
            return ModelResponse(copy.deepcopy(self.whole[unit]), "{}", "complete", CALL_USAGE)
        return answer(unit, self.good[unit])


def scripted(scripts: dict[str, Iterable[Reply]] | None = None, good: dict[str, Any] | None = None,
             capabilities: Capabilities = PLAIN) -> FunctionProvider:
    return FunctionProvider(Script(scripts, good), name="test:scripted", capabilities=capabilities)


def peak(model: FunctionProvider) -> int:
    """The most calls `model` had in flight at once."""
    assert isinstance(model.fn, Script)
    return model.fn.max_in_flight


def asked(model: FunctionProvider, unit: str) -> list[ModelRequest]:
    return [request for request in model.requests if request.schema_name == unit]


def section_requests(model: FunctionProvider) -> list[ModelRequest]:
    return [request for request in model.requests if request.schema_name not in (SPINE, REVIEW)]


def draft(model: FunctionProvider, tracked: frozenset[str] | None = None, **settings: Any) -> DraftResult:
    """A draft; the spine and review calls only when asked for, so most tests see section calls alone."""
    settings = {"spine": False, "review": False, **settings}
    return asyncio.run(draft_plan(TEMPLATE, BRIEF, model, "## Files\n- src/billing/invoice.py", tracked,
                                  DraftSettings(**settings)))


def units_asked(model: FunctionProvider) -> list[str]:
    return sorted(request.schema_name for request in section_requests(model))


# --- one pass --------------------------------------------------------------------------------------


def test_happy_path_asks_each_section_once_and_validates() -> None:
    model = scripted()
    result = draft(model, TRACKED)
    assert units_asked(model) == UNITS
    assert result.complete and result.findings == [] and result.rounds == 0
    assert result.plan == GOOD
    assert result.markdown.startswith("# Invoice CSV export — one-page plan")
    assert "- `src/billing/invoice.py` - add to_csv" in result.markdown


def test_every_section_request_shares_a_byte_identical_prefix() -> None:
    model = scripted()
    draft(model, spine=True, review=True)
    sections = section_requests(model)
    assert len(sections) == len(UNITS)
    assert len({request.system for request in model.requests}) == 1
    assert len({request.shared_prefix for request in sections}) == 1
    assert BRIEF.text in sections[0].shared_prefix
    assert len({repr(request.toolbox) for request in model.requests}) == 1  # spine and review calls too
    assert len({request.prompt for request in sections}) == len(UNITS)  # only the prompt varies


@pytest.mark.parametrize("bound", [1, 2, 4])
def test_concurrency_bound_is_respected(bound: int) -> None:
    model = scripted()
    draft(model, concurrency=bound)
    assert peak(model) == bound


def test_sections_are_asked_concurrently() -> None:
    model = scripted()
    draft(model, concurrency=8)
    assert peak(model) == len(UNITS)


# --- targeted re-asks ------------------------------------------------------------------------------


@pytest.mark.parametrize("leftover", ["{Describe the outcome}", "TODO"])
def test_placeholder_section_is_re_asked_with_the_finding_alone(leftover: str) -> None:
    model = scripted({"goal": [answer("goal", leftover)]})
    result = draft(model)
    assert units_asked(model) == sorted([*UNITS, "goal"])  # only the failing section went again
    first, second = asked(model, "goal")
    assert leftover not in first.prompt
    problems, previous = second.prompt.split("Your previous answer was")
    assert f"- Goal: placeholder {leftover}" in problems or f"- Goal: {leftover} left in the plan" in problems
    assert leftover in previous  # the previous answer is shown
    assert second.shared_prefix == first.shared_prefix
    assert result.complete and result.rounds == 1 and result.plan["goal"] == GOOD["goal"]


def test_malformed_json_becomes_a_finding_and_is_re_asked() -> None:
    model = scripted({"plan": [not_json()]})
    result = draft(model)
    second = asked(model, "plan")[1]
    assert "not a valid JSON object" in second.prompt
    assert result.complete and result.plan["plan"] == GOOD["plan"]


def test_malformed_json_that_stays_malformed_ends_as_an_invalid_json_finding() -> None:
    model = scripted({"plan": [not_json(), not_json()]})
    result = draft(model)
    assert not result.complete
    assert [f.code for f in result.findings if f.unit == "plan" and f.code == "invalid-json"] == ["invalid-json"]
    assert "plan" not in result.plan  # no answer is invented for it; the rest of the plan is kept
    assert result.plan["goal"] == GOOD["goal"]


def test_schema_invalid_answer_names_the_missing_field() -> None:
    partial = {"files_to_modify": GOOD["files"]["files_to_modify"]}  # files_to_create left out
    model = scripted({"files": [answer("files", partial)]})
    result = draft(model)
    second = asked(model, "files")[1]
    assert "files_to_create" in second.prompt and "follow the schema" in second.prompt
    assert result.complete and result.plan["files"] == GOOD["files"]


def test_wrong_enum_value_is_a_schema_finding() -> None:
    model = scripted({"header": [answer("header", {**GOOD["header"], "status": "almost done"})] * 3})
    result = draft(model)
    codes = {f.code for f in result.findings if f.unit == "header"}
    assert codes == {"schema"} and not result.complete


def test_invented_path_in_files_to_modify_is_flagged_and_re_asked() -> None:
    invented = {**GOOD["files"], "files_to_modify": ["`src/billing/ledger.py` - add totals"]}
    model = scripted({"files": [answer("files", invented)]})
    result = draft(model, TRACKED)
    second = asked(model, "files")[1]
    assert "`src/billing/ledger.py` is listed as a file to modify but does not exist" in second.prompt
    assert units_asked(model) == sorted([*UNITS, "files"])
    assert result.complete and result.plan["files"] == GOOD["files"]


def test_paths_are_not_checked_without_a_repository() -> None:
    invented = {**GOOD["files"], "files_to_modify": ["`src/billing/ledger.py` - add totals"]}
    model = scripted({"files": [answer("files", invented)]})
    result = draft(model, tracked=None)
    assert result.complete and len(model.requests) == len(UNITS)


def test_re_ask_prompt_lists_each_finding_once() -> None:
    model = scripted({"plan": [not_json()]})
    draft(model)
    second = asked(model, "plan")[1]
    assert second.prompt.count("not a valid JSON object") == 1


def test_a_round_that_changes_nothing_stops_the_loop() -> None:
    model = scripted({"goal": [answer("goal", "TODO")] * 5})
    result = draft(model, max_rounds=4)
    assert len(asked(model, "goal")) == 2  # the re-ask gave the same answer: asking again would too
    assert result.rounds == 1 and not result.complete
    assert [f.code for f in result.findings] == ["placeholder"] and result.findings[0].unit == "goal"


def test_max_rounds_caps_the_re_asks() -> None:
    model = scripted({"goal": [answer("goal", f"TODO {n}") for n in range(5)]})
    result = draft(model, max_rounds=2)
    assert len(asked(model, "goal")) == 3 and result.rounds == 2 and not result.complete


def test_zero_rounds_asks_once_and_reports_what_is_left() -> None:
    model = scripted({"goal": [answer("goal", "TODO")]})
    result = draft(model, max_rounds=0)
    assert len(model.requests) == len(UNITS) and not result.complete
    assert result.findings[0].unit == "goal"


# --- truncation, refusal, transport ----------------------------------------------------------------


def test_truncated_answer_is_retried_once_with_double_the_output_budget() -> None:
    model = scripted({"goal": [cut_off()]})
    result = draft(model, max_output_tokens=1000)
    assert [r.max_output_tokens for r in asked(model, "goal")] == [1000, 2000]
    assert asked(model, "goal")[1].prompt == asked(model, "goal")[0].prompt  # a retry, not a re-ask
    assert result.complete and result.rounds == 0


def test_truncated_twice_is_a_finding_and_never_asked_again_with_the_budget_that_truncated() -> None:
    model = scripted({"goal": [cut_off(), cut_off()]})
    result = draft(model, max_output_tokens=1000)
    budgets = [r.max_output_tokens for r in asked(model, "goal")]
    assert budgets[:2] == [1000, 2000] and 1000 not in budgets[2:]
    assert len(budgets) <= 3  # doubled once; the re-ask keeps the larger budget
    assert result.complete  # the re-ask at the larger budget answered


def test_truncated_at_every_budget_ends_with_a_truncated_finding() -> None:
    model = scripted({"goal": [cut_off()] * 6})
    result = draft(model, max_output_tokens=1000)
    assert next(f.code for f in result.findings if f.unit == "goal") == "truncated"
    assert "cut off" in result.findings[0].message
    assert all(r.max_output_tokens == 2000 for r in asked(model, "goal")[1:])


def test_refusal_ends_that_section_with_a_finding() -> None:
    model = scripted({"risks": [refused("I can't help with that.")] * 3})
    result = draft(model)
    assert len(asked(model, "risks")) == 1  # a refusal is not argued with
    finding = next(f for f in result.findings if f.unit == "risks")
    assert finding.code == "refusal" and "I can't help with that." in finding.message
    assert not result.complete and result.plan["goal"] == GOOD["goal"]


def test_transport_failure_of_one_section_is_a_finding_and_the_rest_is_kept() -> None:
    model = scripted({"risks": [TransportError("openai: HTTP 503 after 4 attempts")] * 3})
    result = draft(model, max_rounds=0)
    finding = next(f for f in result.findings if f.unit == "risks")
    assert finding.code == "transport" and "HTTP 503" in finding.message
    assert result.plan["goal"] == GOOD["goal"]


def test_a_request_rejected_for_one_section_is_a_finding_and_the_rest_is_kept() -> None:
    model = scripted({"risks": [RejectedError("openai: the request was rejected (HTTP 400): bad schema")]})
    result = draft(model, max_rounds=0)
    finding = next(f for f in result.findings if f.unit == "risks")
    assert finding.code == "rejected" and "HTTP 400" in finding.message
    assert result.plan["goal"] == GOOD["goal"]


def test_a_rejected_key_stops_the_whole_draft() -> None:
    model = scripted({"goal": [ProviderError("openai: the API key was rejected (HTTP 401)")]})
    with pytest.raises(ProviderError, match="HTTP 401"):
        draft(model)


def test_transport_failure_of_every_section_raises() -> None:
    model = scripted({unit: [TransportError("openai: could not connect")] for unit in UNITS})
    with pytest.raises(TransportError, match="could not connect"):
        draft(model)


# --- cost and usage --------------------------------------------------------------------------------


def test_usage_and_cost_count_every_attempt() -> None:
    model = scripted({"goal": [cut_off(), answer("goal", "TODO")], "plan": [not_json()]})
    prices = {model.name: Price(input=1.0, output=2.0, cache_read=0.1, cache_write=1.0)}
    result = draft(model, prices=prices)
    calls = len(UNITS) + 3  # goal: cut off, retried, re-asked; plan: re-asked
    assert len(model.requests) == calls
    assert result.usage == Usage(calls, 1000 * calls, 200 * calls, 800 * calls, 0)
    per_call = (200 * 1.0 + 800 * 0.1 + 200 * 2.0) / 1_000_000
    assert result.cost_usd == pytest.approx(per_call * calls)
    assert result.timings["calls"] == calls


def test_max_cost_stops_before_the_call_that_would_pass_it() -> None:
    # Each call could cost at most $1 (100 output tokens at $10,000 a million) and does cost exactly $1.
    usage = Usage(calls=1, output_tokens=100)
    model = scripted({unit: [answer(unit, GOOD[unit], usage)] for unit in UNITS})
    prices = {model.name: Price(input=0.0, output=10_000.0, cache_read=0.0, cache_write=0.0)}
    result = draft(model, max_cost_usd=2.5, max_output_tokens=100, prices=prices, concurrency=1)
    assert len(model.requests) == 2  # a third call could make it $3
    assert result.cost_usd == pytest.approx(2.0)
    budget = [f for f in result.findings if f.code == "budget"]
    assert {f.unit for f in budget} == set(UNITS) - {r.schema_name for r in model.requests}
    assert "--max-cost" in budget[0].message and not result.complete


def test_max_cost_counts_calls_still_in_flight() -> None:
    model = scripted()
    prices = {model.name: Price(input=0.0, output=10_000.0, cache_read=0.0, cache_write=0.0)}
    draft(model, max_cost_usd=3.5, max_output_tokens=100, prices=prices, concurrency=8)
    assert len(model.requests) == 3  # all started together, before any reported its cost


# --- prompt cache warm-up --------------------------------------------------------------------------


# A provider whose prompt cache only serves what an earlier, finished request wrote (Anthropic's).
CACHING = Capabilities(warm_cache_first=True)


def test_an_explicit_cache_is_written_once_before_the_sections_fan_out() -> None:
    model = scripted(capabilities=CACHING)
    result = draft(model, concurrency=8)
    warm, *sections = model.requests
    assert warm.max_output_tokens == 0 and warm.shared_prefix == sections[0].shared_prefix  # the documented pre-warm
    assert sorted(request.schema_name for request in sections) == UNITS
    assert peak(model) == len(UNITS)  # the sections still go out together, after the warm-up
    assert result.complete and result.timings["calls"] == len(UNITS) + 1


def test_no_warm_up_for_providers_that_cache_automatically_or_for_a_single_section() -> None:
    plain = scripted()
    draft(plain)
    assert all(request.max_output_tokens > 0 for request in plain.requests)
    caching = scripted({"goal": [answer("goal", "TODO")]}, capabilities=CACHING)
    draft(caching)
    re_asks = [request for request in caching.requests[1 + len(UNITS):]]
    assert [request.schema_name for request in re_asks] == ["goal"]  # a round of one is not warmed again


def test_max_cost_with_a_model_that_has_no_price_is_refused_before_any_call() -> None:
    model = scripted()
    with pytest.raises(InputError, match="--max-cost needs a price for test:scripted"):
        draft(model, max_cost_usd=1.0, prices={})
    assert model.requests == []


def test_a_draft_whose_only_section_failed_reports_it_rather_than_a_template_mismatch() -> None:
    # Every section here is a repeated block: with no answer, the rendered plan has no heading to align.
    template = compile_template("# Plan\n\n## Phase 1: [Name]\n\n- [Task]\n\n## Phase 2: [Name]\n\n- [Task]\n")
    model = scripted({"phases": [not_json()] * 3})
    result = asyncio.run(draft_plan(template, BRIEF, model, "", None, DraftSettings(max_rounds=1)))
    assert not result.complete
    assert [(f.unit, f.code) for f in result.findings] == [("phases", "invalid-json")]


def test_once_a_section_gives_up_on_the_provider_the_sections_not_yet_sent_do_not_wait_for_it() -> None:
    from agent.template.schema import unit_names

    first = unit_names(TEMPLATE)[0]  # the first the loop sends
    model = scripted({first: [TransportError("openai: no answer within the call timeout after 4 attempts")]})
    with pytest.raises(TransportError, match="no answer within the call timeout"):
        draft(model, concurrency=1)  # nothing came back, so the draft ends with the provider's error
    assert units_asked(model) == [first]  # each of the others would have waited through its own retries
