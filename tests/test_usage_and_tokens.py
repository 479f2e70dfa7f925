"""The provider seam keeps no account: each draft counts its own usage, and a request is sized before it is sent.

One provider serves two drafts at once and each result's usage is its own; a request larger than the model's
declared context window fails before any call with the fix (--context-tokens); --max-cost bounds a call by the
window as well as by its body.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from batch_support import write_backlog
from draft_support import BRIEF, TEMPLATE
from fake_llm_server import FakeLLMServer
from provider_support import ANTHROPIC_KEY, OPENAI_KEY, make_request
from typer.testing import CliRunner

from agent.batch.runner import BatchRequest, run_batch
from agent.batch.summary import BatchPlan, ItemOutcome
from agent.cli import app
from agent.context.brief import Brief
from agent.draft.cost import Account, CostCap
from agent.draft.loop import DraftResult, DraftSettings, draft_plan
from agent.errors import BudgetError, ContextWindowError, TransportError
from agent.providers import resolve_provider
from agent.providers.base import Capabilities, ModelRequest, ModelResponse, Usage
from agent.providers.testing import EMPTY_WHEN_FINE, FunctionProvider, fill_schema
from agent.session import Session

OTHER = Brief("Archive old orders", "# Archive old orders\n\nMove orders older than a year to cold storage.", "b.md")
# What each draft's every call is billed, so a total that mixed the two drafts could not add up.
BILLED = {BRIEF.title: Usage(calls=1, input_tokens=10, output_tokens=1),
          OTHER.title: Usage(calls=1, input_tokens=20_000, output_tokens=1_000)}


def asker(request: ModelRequest) -> str:
    return next(title for title in BILLED if title in request.shared_prefix)


def test_one_provider_serves_two_drafts_at_once_and_each_result_counts_only_its_own_calls() -> None:
    asked: Counter[str] = Counter()
    arrived = {title: asyncio.Event() for title in BILLED}

    async def answer(request: ModelRequest) -> ModelResponse:
        title = asker(request)
        asked[title] += 1
        arrived[title].set()
        await asyncio.wait_for(asyncio.gather(*(event.wait() for event in arrived.values())), 5)  # both in flight
        data = fill_schema(request.schema, 1, EMPTY_WHEN_FINE)
        return ModelResponse(data, json.dumps(data), "complete", BILLED[title])

    provider = FunctionProvider(answer, name="anthropic:claude-sonnet-4-5")

    async def both() -> list[DraftResult]:
        return list(await asyncio.gather(draft_plan(TEMPLATE, BRIEF, provider), draft_plan(TEMPLATE, OTHER, provider)))

    results = asyncio.run(both())
    for result, brief in zip(results, (BRIEF, OTHER), strict=True):
        calls = asked[brief.title]
        assert calls > 1 and result.usage == sum([BILLED[brief.title]] * calls, Usage())
        assert sum(entry["calls"] for entry in result.by_purpose.values()) == calls
    assert results[0].cost_usd is not None and results[1].cost_usd is not None
    assert results[0].cost_usd < results[1].cost_usd / 1000


def test_a_failed_calls_attempts_count_in_the_draft_that_made_it() -> None:
    def unreachable(request: ModelRequest) -> dict[str, Any]:
        error = TransportError("test: HTTP 503 after 3 attempts")
        error.attempts = 3
        raise error

    account, provider = Account(), FunctionProvider(unreachable)
    with pytest.raises(TransportError):
        asyncio.run(draft_plan(TEMPLATE, BRIEF, provider, account=account))
    # The spine's call gave up after 3 attempts, and the sections did not call a provider that stayed unreachable.
    assert len(provider.requests) == 1 and account.usage == Usage(calls=3)


# --- the context window -------------------------------------------------------------------------------


def test_a_request_larger_than_the_context_window_fails_before_any_call_naming_the_fix() -> None:
    provider = FunctionProvider(lambda request: fill_schema(request.schema), capabilities=Capabilities(
        context_window=8_000))
    repository = "## src/billing/invoice.py\n" + "def total(self) -> int:\n    return 0\n" * 1_000  # ~10,000 tokens
    with pytest.raises(ContextWindowError) as caught:
        asyncio.run(draft_plan(TEMPLATE, BRIEF, provider, repository))
    message = str(caught.value)
    assert provider.requests == []
    assert "\n" not in message and "8,000 tokens" in message and caught.value.exit_code == 2
    named = re.search(r"lower --context-tokens to ([\d,]+) or less$", message)
    assert named is not None
    fits = int(named[1].replace(",", ""))
    # The figure it names is enough: a repository context of that size makes the draft fit.
    asyncio.run(draft_plan(TEMPLATE, BRIEF, provider, repository[:fits * 4]))
    assert provider.requests


def test_a_brief_too_long_for_the_window_on_its_own_says_so() -> None:
    provider = FunctionProvider(lambda request: fill_schema(request.schema), capabilities=Capabilities(
        context_window=6_000))
    long_brief = Brief("Export invoices", "# Export invoices\n\n" + "Finance wants CSV files. " * 1_000, "brief.md")
    with pytest.raises(ContextWindowError, match="the brief and template alone are too long for it: shorten the brief"):
        asyncio.run(draft_plan(TEMPLATE, long_brief, provider, "## src/billing/invoice.py\nclass Invoice: ...\n"))
    assert provider.requests == []


def test_a_request_that_fits_the_window_is_sent() -> None:
    provider = FunctionProvider(lambda request: fill_schema(request.schema, 1, EMPTY_WHEN_FINE),
                                capabilities=Capabilities(context_window=200_000))
    result = asyncio.run(draft_plan(TEMPLATE, BRIEF, provider, "## src/billing/invoice.py\nclass Invoice: ...\n"))
    assert provider.requests and result.usage.calls == len(provider.requests)


def test_a_cut_off_answer_is_asked_again_with_only_as_much_more_room_as_the_window_leaves() -> None:
    def answer(request: ModelRequest) -> dict[str, Any] | ModelResponse:
        if request.schema_name == "goal" and request.max_output_tokens == 4096:
            return ModelResponse(None, '{"goal": "Fin', "truncated", Usage(calls=1))
        return fill_schema(request.schema, 1, EMPTY_WHEN_FINE)

    window = 9_500  # each request is about 3,000 tokens
    provider = FunctionProvider(answer, capabilities=Capabilities(context_window=window))
    asyncio.run(draft_plan(TEMPLATE, BRIEF, provider, settings=DraftSettings(spine=False, review=False)))
    goal = [request for request in provider.requests if request.schema_name == "goal"]
    room = window - provider.count_tokens(goal[0]).likely
    assert 4096 < room < 2 * 4096  # the window leaves less than the doubled budget
    assert [request.max_output_tokens for request in goal][:2] == [4096, room]


def test_models_declare_their_context_window_by_family_and_a_later_version_declares_none() -> None:
    env = {"OPENAI_API_KEY": OPENAI_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY}
    windows = {spec: resolve_provider(spec, env=env) for spec in (
        "openai:gpt-4.1-mini-2025-04-14", "openai:gpt-5.4", "anthropic:claude-sonnet-4-5-20250929", "ollama:llama3")}
    assert {spec: p.capabilities.context_window for spec, p in windows.items()} == {
        "openai:gpt-4.1-mini-2025-04-14": 1_047_576, "openai:gpt-5.4": None,
        "anthropic:claude-sonnet-4-5-20250929": 200_000, "ollama:llama3": None}
    for provider in windows.values():
        asyncio.run(provider.aclose())


# --- the cost cap -----------------------------------------------------------------------------------------


def test_the_cost_cap_bounds_a_call_by_the_context_window_as_well_as_by_its_body() -> None:
    # ~400 KB of prompt: bounded by its bytes, a call on claude-sonnet-4-5 (at most $3.75/M in, a cache write)
    # could cost $1.53; the model refuses any prompt past its 200,000-token window, so it cannot cost over $0.80.
    request = make_request(shared_prefix="Quarterly invoices are exported as CSV files. " * 8_500,
                           max_output_tokens=4096)

    def send(window: int | None) -> None:
        provider = FunctionProvider(lambda r: {"title": "ok"}, name="anthropic:claude-sonnet-4-5",
                                    capabilities=Capabilities(context_window=window))
        asyncio.run(Account(CostCap(1.00)).complete(provider, request))

    send(200_000)
    with pytest.raises(BudgetError, match=r"could cost \$1\.5\d+ and pass --max-cost \$1\.00"):
        send(None)


def large_repository(root: Path) -> Path:
    """About 240,000 tokens of source, more than gpt-4o-mini's declared 128,000."""
    for number in range(60):
        (root / "src" / "billing").mkdir(parents=True, exist_ok=True)
        (root / "src" / "billing" / f"invoice_{number}.py").write_text("".join(
            f'def invoice_total_{number}_{line}(lines: list[int]) -> int:\n    """Sum invoice {line}."""\n'
            f"    return sum(lines) + {line}\n\n\n" for line in range(120)))
    return root


def test_plan_draft_refuses_a_request_past_the_models_window_before_any_call_and_the_named_fix_works(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    large_repository(tmp_path)
    (tmp_path / "brief.md").write_text("# Export invoices as CSV\n\nFinance wants a CSV of every invoice total.\n")
    monkeypatch.chdir(tmp_path)
    with FakeLLMServer() as server:
        model = ["--model", "openai:gpt-4o-mini", "--base-url", server.openai_base_url]
        refused = CliRunner().invoke(app, ["draft", "brief.md", *model, "--context-tokens", "200000"],
                                     env={"OPENAI_API_KEY": OPENAI_KEY})
        assert refused.exit_code == 2 and server.requests == [] and "Traceback" not in refused.output
        error = refused.stderr.splitlines()[-1]
        assert error.startswith("plan: error: openai:gpt-4o-mini takes at most 128,000 tokens"), refused.stderr
        named = re.search(r"lower --context-tokens to ([\d,]+) or less$", error)
        assert named is not None
        drafted = CliRunner().invoke(app, ["draft", "brief.md", *model, "--context-tokens", named[1].replace(",", "")],
                                     env={"OPENAI_API_KEY": OPENAI_KEY})
    assert drafted.exit_code in (0, 3), drafted.stderr  # 3: the fake server's file names are not this repository's
    assert (tmp_path / "implementation-plans" / "export-invoices-as-csv" / "plan.md").is_file()


class Quiet:
    def started(self, plan: BatchPlan) -> None: ...
    def finished(self, outcome: ItemOutcome) -> None: ...
    def note(self, message: str) -> None: ...


def test_in_a_batch_each_item_past_the_window_fails_alone_before_any_call(tmp_path: Path) -> None:
    repo = large_repository(tmp_path)
    write_backlog(repo / "backlog.jsonl", 2)
    with FakeLLMServer() as server:
        request = BatchRequest(source=str(repo / "backlog.jsonl"), repo=str(repo), out=str(repo / "plans"))
        session = Session(env={"OPENAI_API_KEY": OPENAI_KEY}, base_url=server.openai_base_url)
        flags = {"template": "compact", "model": "openai:gpt-4o-mini", "context_tokens": 200_000}
        summary = run_batch(request, session.resolve(flags, repo), Quiet())
        assert server.requests == []
    manifest = json.loads((repo / "plans" / "batch-manifest.json").read_text())
    errors = [item["error"] for item in manifest["items"].values()]
    assert summary.states["failed"] == 2 and all("lower --context-tokens to" in error for error in errors), errors


def test_once_sections_are_drafted_a_re_ask_or_review_past_the_window_is_reported_not_fatal() -> None:
    long_goal = "TODO: decide. " + "Finance downloads each invoice as a CSV file from its page. " * 150  # ~2,300 tokens

    def answer(request: ModelRequest) -> dict[str, Any]:
        if request.schema_name == "goal" and "TODO" not in request.prompt:  # first ask: a placeholder, re-asked
            return {"goal": long_goal}
        return fill_schema(request.schema, 1, EMPTY_WHEN_FINE)

    said: list[str] = []
    provider = FunctionProvider(answer, capabilities=Capabilities(context_window=8_000))
    result = asyncio.run(draft_plan(TEMPLATE, BRIEF, provider, progress=said.append,
                                    settings=DraftSettings(spine=False)))
    asked = [request.schema_name for request in provider.requests]
    assert "review" not in asked and any("plan review: " in line and "8,000 tokens" in line for line in said)
    assert asked.count("goal") == 1  # its re-ask would not fit: not sent
    window = [finding for finding in result.findings if finding.code == "context-window"]
    assert [finding.unit for finding in window] == ["goal"] and "--context-tokens" in window[0].message


def test_a_batch_records_each_items_own_calls_while_items_share_one_provider(tmp_path: Path) -> None:
    ids = write_backlog(tmp_path / "backlog.jsonl", 4)
    titles = {row["id"]: row["title"] for row in map(json.loads, (tmp_path / "backlog.jsonl").read_text().splitlines())}
    with FakeLLMServer() as server:
        request = BatchRequest(source=str(tmp_path / "backlog.jsonl"), repo=str(tmp_path), out=str(tmp_path / "plans"),
                               workers=4)
        session = Session(env={"OPENAI_API_KEY": OPENAI_KEY}, base_url=server.openai_base_url)
        summary = run_batch(request, session.resolve({"template": "compact", "model": "openai:gpt-4.1-mini",
                                                     "rpm": 60_000}, tmp_path),
                            Quiet())
        sent = [json.dumps(recorded.body) for recorded in server.requests]
    items = json.loads((tmp_path / "plans" / "batch-manifest.json").read_text())["items"]
    for item_id in ids:  # the calls whose prompt carries the item's brief, and no other's
        assert items[item_id]["usage"]["calls"] == sum(titles[item_id] in body for body in sent) > 0
    assert summary.usage.calls == len(sent) == sum(item["usage"]["calls"] for item in items.values())
