"""The batch's one rate limiter: even pacing, learning from headers, and a 429 that slows every worker."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
import respx
from provider_support import ANSWER, OPENAI_KEY, make_request

from agent.batch.limiter import RateLimiter
from agent.context.brief import Brief
from agent.draft.cost import Account, CostCap
from agent.providers.base import Provider, Usage
from agent.providers.offline import OfflineDrafter
from agent.providers.openai import OPENAI_URL, OpenAIProvider
from agent.providers.ratelimits import RateLimits
from agent.providers.retry import Fault, RetryPolicy
from agent.providers.testing import FunctionProvider
from agent.template.catalog import load_template


class Clock:
    """Virtual time: `sleep` moves it on at once (calls here take turns, so one clock serves them)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def starts(limiter: RateLimiter, clock: Clock, count: int, tokens: int = 0) -> list[float]:
    async def run() -> list[float]:
        times = []
        for _ in range(count):
            await limiter.acquire(tokens)
            times.append(round(clock.now - 100.0, 6))
            limiter.finished()
        return times

    return asyncio.run(run())


def limiter(rpm: float | None = None, tpm: float | None = None) -> tuple[RateLimiter, Clock]:
    clock = Clock()
    return RateLimiter(rpm, tpm, clock=clock, sleep=clock.sleep), clock


def test_requests_are_spaced_evenly_not_burst() -> None:
    pacer, clock = limiter(rpm=1200)
    assert starts(pacer, clock, 4) == [0.0, 0.05, 0.1, 0.15]


def test_tokens_per_minute_space_large_calls_and_settle_to_what_was_used() -> None:
    pacer, clock = limiter(tpm=60_000)  # 1,000 tokens a second
    assert starts(pacer, clock, 2, tokens=500) == [0.0, 0.5]
    pacer.settle(500, Usage(input_tokens=100, output_tokens=100))  # the last call used 200, not 500
    assert starts(pacer, clock, 1, tokens=500) == [0.7]


def test_without_a_known_limit_the_pace_starts_at_ten_a_second_and_grows_with_every_answer() -> None:
    pacer, clock = limiter()
    assert starts(pacer, clock, 3) == [0.0, 0.0, 0.1]  # the first call alone, then ten a second
    for _ in range(10):
        pacer.settle(0, Usage(calls=1))
    assert pacer.requests.per_minute == 600 + 10 * 60  # each answered call adds one a second


def test_learning_from_429s_alone_settles_just_under_what_the_server_admits() -> None:
    pacer, clock = limiter()
    starts(pacer, clock, 1)
    for _ in range(40):  # 40 answers in the last two seconds: the server admits about 1,200 a minute
        clock.now += 0.05
        pacer.settle(0, Usage(calls=1))
    pacer.on_fault(Fault("status", status=429, retry_after=0.05))
    assert pacer.requests.per_minute == pytest.approx(0.95 * 1200)  # just under it, not the 3,000 it had grown to
    clock.now += 0.5
    pacer.on_fault(Fault("status", status=429, retry_after=0.05))  # a call started at the old pace: an echo
    assert pacer.requests.per_minute == pytest.approx(1140)
    clock.now += 1.0
    for _ in range(10):  # additive increase: 0.6 a minute per answer, 1% a second at this pace
        pacer.settle(0, Usage(calls=1))
    assert pacer.requests.per_minute == pytest.approx(1146)
    pacer.on_fault(Fault("status", status=429, retry_after=0.05))  # multiplicative decrease
    assert pacer.requests.per_minute == pytest.approx(1146 * 0.9)


def test_headers_set_the_limit_unless_a_lower_one_was_configured() -> None:
    pacer, clock = limiter()
    pacer.learn(RateLimits(requests_limit=600))
    assert starts(pacer, clock, 2) == [0.0, 0.1]
    configured, clock = limiter(rpm=300)
    configured.learn(RateLimits(requests_limit=600, tokens_limit=90_000))
    assert (configured.requests.per_minute, configured.tokens.per_minute) == (300, 90_000)


def test_nothing_remaining_pauses_until_the_next_request_is_allowed() -> None:
    pacer, clock = limiter()
    pacer.learn(RateLimits(requests_remaining=0, requests_reset_s=2.0))  # no rate known: until the reset
    assert starts(pacer, clock, 1) == [2.0]
    paced, clock = limiter(rpm=1200)
    paced.learn(RateLimits(requests_remaining=0, requests_reset_s=2.0))  # refills a request every 0.05 s
    assert starts(paced, clock, 2) == [0.05, 0.1]


def test_a_429_pauses_everyone_for_retry_after_then_paces_a_tenth_slower() -> None:
    pacer, clock = limiter(rpm=1200)
    assert starts(pacer, clock, 1) == [0.0]
    pacer.on_fault(Fault("status", status=429, retry_after=3.0, limits=RateLimits(requests_limit=1200)))
    # The limit was not where the pace assumed: a tenth slower after the pause.
    assert pacer.requests.per_minute == 1080 and pacer.pauses == 1
    assert starts(pacer, clock, 2) == [3.0, round(3 + 1 / 18, 6)]


def test_a_429_slows_the_pace_once_per_pause() -> None:
    pacer, _ = limiter(rpm=1200)
    for _ in range(3):  # the in-flight echoes of one burst slow it once
        pacer.on_fault(Fault("status", status=429, retry_after=1.0))
    assert pacer.requests.per_minute == 1080


def test_a_retry_waits_its_turn_and_other_failures_do_not_pause() -> None:
    pacer, clock = limiter(rpm=1200)
    starts(pacer, clock, 1)
    pacer.on_fault(Fault("status", status=503))
    asyncio.run(pacer.before_retry())
    assert clock.now == 100.05 and pacer.pauses == 0


def test_without_a_known_limit_the_first_call_goes_alone() -> None:
    async def run() -> list[str]:
        pacer = RateLimiter()
        order: list[str] = []

        async def call(name: str, delay: float) -> None:
            await asyncio.sleep(delay)
            await pacer.acquire(0)
            order.append(f"{name} starts")
            if name == "probe":
                await asyncio.sleep(0.05)
                order.append("probe answered")
                pacer.learn(RateLimits(requests_limit=60_000))
                pacer.finished()

        await asyncio.gather(call("probe", 0), call("second", 0.01), call("third", 0.01))
        return order

    assert asyncio.run(run())[:3] == ["probe starts", "probe answered", "second starts"]


def test_the_offline_drafter_is_never_paced_a_model_behind_an_api_is() -> None:
    """An offline batch of a hundred items makes thousands of calls that reach no account's limits."""
    template = load_template("default")
    brief = Brief(title="Export invoices", text="# Export invoices\n\nFinance wants a CSV of each invoice.\n",
                  source="brief.md")
    offline = OfflineDrafter(template, brief, None)
    remote = FunctionProvider(lambda request: {request.schema_name: "Finance downloads invoices as CSV."})
    request = make_request(schema_name=template.unit_names[0])

    def waited(provider: Provider) -> float:
        pacer, clock = limiter(rpm=60)  # one call a second

        async def calls() -> None:
            account = Account(pacer=pacer)
            for _ in range(5):
                await account.complete(provider, request)

        asyncio.run(calls())
        return clock.now - 100.0

    assert waited(offline) == 0.0
    assert waited(remote) == 4.0


def completion() -> dict[str, Any]:
    message = {"role": "assistant", "content": json.dumps(ANSWER), "refusal": None}
    return {"id": "c", "object": "chat.completion", "created": 0, "model": "gpt-test",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


@respx.mock
def test_one_workers_429_holds_back_every_other_worker() -> None:
    """Through the real provider and retry policy: worker A's first call gets a 429 (retry after 0.4 s);
    worker B starts just after it and must not call until the pause is over."""
    sent: list[tuple[float, str]] = []
    begin = time.monotonic()

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append((time.monotonic() - begin, json.loads(request.content)["messages"][-1]["content"]))
        if len(sent) == 1:
            return httpx.Response(429, headers={"retry-after-ms": "400"}, json={"error": {"message": "slow down"}})
        return httpx.Response(200, json=completion())

    respx.post(f"{OPENAI_URL}/chat/completions").mock(side_effect=answer)
    shared_limiter = RateLimiter()
    inner = OpenAIProvider("gpt-test", OPENAI_KEY, retry=RetryPolicy(jitter=0.0, on_fault=shared_limiter.on_fault))

    async def worker(prompt: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await Account(CostCap(None), shared_limiter).complete(inner, make_request(prompt=prompt))

    async def run() -> None:
        await asyncio.gather(worker("A", 0.0), worker("B", 0.1))
        await inner.aclose()

    asyncio.run(run())
    assert [prompt for _, prompt in sent] == ["A", "A", "B"] or [prompt for _, prompt in sent] == ["A", "B", "A"]
    b_sent = next(at for at, prompt in sent if prompt == "B")
    assert b_sent >= 0.38, sent  # B waited out A's 429 instead of calling at 0.1 s
