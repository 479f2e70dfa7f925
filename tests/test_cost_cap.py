"""--max-cost is a promise: whatever the provider answers, a draft or a batch never spends past it.

The fake server answers with drawn sequences (cut off, refused, not JSON, or good; any input count up to
what the exact body could be, any output count up to `max_tokens`, any split into cache reads and
writes), so the re-asks, the doubled budgets of cut-off answers and the calls in flight all happen.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from batch_support import make_repo, write_backlog
from draft_support import BRIEF, TEMPLATE
from fake_llm_server import Answer, FakeLLMServer, RecordedRequest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.batch.runner import BatchRequest, run_batch
from agent.batch.summary import BatchPlan, ItemOutcome
from agent.draft.cost import cost_usd
from agent.draft.loop import DraftSettings, draft_plan
from agent.errors import ProviderError
from agent.providers.anthropic import AnthropicProvider
from agent.providers.base import Provider, Usage
from agent.providers.openai import OpenAIProvider
from agent.providers.retry import RetryPolicy
from agent.session import Session

MODELS = {"openai": "openai:gpt-4.1-mini", "anthropic": "anthropic:claude-sonnet-4-5"}  # priced in PRICES
HIDDEN = 350  # Anthropic's tool-use system prompt, which the body does not show

# One answer: its kind, and the share of the most it could bill taken by input, output, reads and writes.
share = st.sampled_from([1.0, 0.0]) | st.floats(0, 1)  # the extremes first: an adversary bills all it can
answers = st.tuples(st.sampled_from(["good", "good", "truncated", "refused", "not json"]), share, share, share, share)


class Adversary:
    """A handler that answers each call with the next drawn answer, billing as much as it is drawn to."""

    def __init__(self, drawn: list[tuple[str, float, float, float, float]]) -> None:
        self.drawn, self.calls = drawn, 0
        self.billed = Usage()  # what the server charged, counted on its side

    def __call__(self, request: RecordedRequest) -> Answer:
        kind, share_in, share_out, share_read, share_write = self.drawn[self.calls % len(self.drawn)]
        self.calls += 1
        most_in = len(json.dumps(request.body, ensure_ascii=False).encode()) + HIDDEN  # a token is at least a byte
        limit = request.body.get("max_tokens", request.body.get("max_completion_tokens")) or 0
        input_tokens = round(most_in * share_in)
        read = round(input_tokens * share_read)
        usage = {"input_tokens": input_tokens, "output_tokens": round(limit * share_out),
                 "cache_read_tokens": read, "cache_write_tokens": round((input_tokens - read) * share_write)}
        self.billed += Usage(**usage)
        if kind == "truncated":
            return Answer(stop="truncated", **usage)
        if kind == "refused":
            return Answer(stop="refused", **usage)
        return Answer(text="{not json", **usage) if kind == "not json" else Answer(**usage)


def provider(wire: str, server: FakeLLMServer) -> Provider:
    retry = RetryPolicy(attempts=1)
    if wire == "openai":
        return OpenAIProvider("gpt-4.1-mini", "sk-test", server.openai_base_url, retry, platform=True)
    return AnthropicProvider("claude-sonnet-4-5", "sk-ant-test", server.anthropic_base_url, retry)


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cap=st.floats(0.001, 1.0), drawn=st.lists(answers, min_size=1, max_size=12))
def test_no_sequence_of_answers_takes_a_draft_past_max_cost(wire: str, cap: float,
                                                           drawn: list[Any]) -> None:
    adversary = Adversary(drawn)
    with FakeLLMServer(handler=adversary) as server:
        target = provider(wire, server)

        async def run() -> None:
            try:
                await draft_plan(TEMPLATE, BRIEF, target, "## Files\n- src/billing/invoice.py " * 30, None,
                                 DraftSettings(max_cost_usd=cap, concurrency=8, max_output_tokens=1024))
            except ProviderError:
                pass  # nothing could be drafted: what it spent still counts
            finally:
                await target.aclose()

        asyncio.run(run())
    spent = cost_usd(target.name, adversary.billed)  # OpenAI bills a cache write as input: the same price
    assert spent is not None and spent <= cap


class Quiet:
    def started(self, plan: BatchPlan) -> None: ...
    def finished(self, outcome: ItemOutcome) -> None: ...
    def note(self, message: str) -> None: ...


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(cap=st.floats(0.005, 1.0), drawn=st.lists(answers, min_size=1, max_size=8))
def test_no_sequence_of_answers_takes_a_batch_past_max_cost(wire: str, cap: float, drawn: list[Any],
                                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    repo = make_repo(tmp_path_factory.mktemp("repo"))
    write_backlog(repo / "backlog.jsonl", 4)
    with FakeLLMServer(handler=Adversary(drawn)) as server:
        url = server.openai_base_url if wire == "openai" else server.anthropic_base_url
        request = BatchRequest(source=str(repo / "backlog.jsonl"), repo=str(repo), out=str(repo / "plans"), workers=2)
        session = Session(env={"ANTHROPIC_API_KEY": "sk-ant-test", "OPENAI_API_KEY": "sk-test"}, base_url=url)
        flags = {"template": "compact", "model": MODELS[wire], "max_cost": cap,
                 "rpm": 60_000}  # a known pace, not the slow start from ten calls a second
        summary = run_batch(request, session.resolve(flags, repo), Quiet())
    assert summary.cost_usd is not None and summary.cost_usd <= cap
    assert summary.spent_usd <= cap
    assert json.loads((Path(repo) / "plans" / "batch-manifest.json").read_text())["spent_usd"] <= cap
