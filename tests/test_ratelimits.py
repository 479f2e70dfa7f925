"""Rate-limit headers: read from both providers' answers (and 429s), and every failed attempt reported."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import respx
from provider_support import ANSWER, ANTHROPIC_KEY, OPENAI_KEY, fast_policy, make_request

from agent.providers.anthropic import ANTHROPIC_URL, AnthropicProvider
from agent.providers.openai import OPENAI_URL, OpenAIProvider
from agent.providers.ratelimits import RateLimits, read_rate_limits
from agent.providers.retry import Fault, RetryPolicy, Service, fault_from_status, with_retries

OPENAI_HEADERS = {
    "x-ratelimit-limit-requests": "1200", "x-ratelimit-remaining-requests": "1199",
    "x-ratelimit-reset-requests": "50ms", "x-ratelimit-limit-tokens": "400000",
    "x-ratelimit-remaining-tokens": "398000", "x-ratelimit-reset-tokens": "1m30.5s",
}
ANTHROPIC_HEADERS = {
    "anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "0",
    "anthropic-ratelimit-requests-reset": "2026-01-01T00:00:12Z",
    "anthropic-ratelimit-tokens-limit": "30000",
}
NEW_YEAR = 1767225600.0  # 2026-01-01T00:00:00Z


def test_openai_headers() -> None:
    assert read_rate_limits(OPENAI_HEADERS) == RateLimits(1200, 1199, 0.05, 400_000, 398_000, 90.5)


def test_anthropic_headers_reset_at_a_time() -> None:
    limits = read_rate_limits(ANTHROPIC_HEADERS, now=lambda: NEW_YEAR)
    assert limits == RateLimits(50, 0, 12.0, 30_000, None, None)


def test_no_headers_and_garbage() -> None:
    assert read_rate_limits({"content-type": "application/json"}) is None
    assert read_rate_limits({"x-ratelimit-limit-requests": "lots", "x-ratelimit-reset-requests": "soon"}) is None


def test_a_429_fault_carries_the_limits() -> None:
    fault = fault_from_status(429, {"retry-after": "2", **OPENAI_HEADERS}, None)
    assert fault.retry_after == 2.0 and fault.limits is not None and fault.limits.requests_limit == 1200


def test_on_fault_hears_every_failed_attempt_and_before_retry_gates_every_retry() -> None:
    heard: list[Fault] = []
    gated: list[int] = []
    policy, sleep = fast_policy(attempts=4)

    async def before_retry() -> None:
        gated.append(len(heard))

    policy = RetryPolicy(attempts=4, jitter=0.0, sleep=policy.sleep, on_fault=heard.append, before_retry=before_retry)
    faults = [fault_from_status(429, {"retry-after": "3"}, None), Fault("status", status=503)]

    async def call() -> str:
        if faults:
            raise faults.pop(0)
        return "ok"

    done = asyncio.run(with_retries(call, policy=policy, service=Service("openai", "u", "K")))
    assert done.value == "ok" and done.attempts == 3
    assert [fault.status for fault in heard] == [429, 503] and sleep.waits == [3.0, 2.0]
    assert gated == [1, 2]  # before each retry, after the fault that caused it; not before the first call


@respx.mock
def test_openai_answer_carries_its_rate_limits() -> None:
    message = {"role": "assistant", "content": json.dumps(ANSWER), "refusal": None}
    body = {"id": "c", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
    respx.post(f"{OPENAI_URL}/chat/completions").mock(return_value=httpx.Response(200, json=body, headers=OPENAI_HEADERS))
    response = asyncio.run(_complete(OpenAIProvider("gpt-test", OPENAI_KEY, retry=fast_policy()[0])))
    assert response.data == ANSWER and response.extra["rate_limits"].requests_limit == 1200


@respx.mock
def test_anthropic_answer_carries_its_rate_limits() -> None:
    tool_use = {"type": "tool_use", "id": "t", "name": "overview", "input": ANSWER}
    body = {"id": "m", "type": "message", "role": "assistant", "model": "c", "content": [tool_use],
            "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}
    respx.post(f"{ANTHROPIC_URL}/v1/messages").mock(
        return_value=httpx.Response(200, json=body, headers=ANTHROPIC_HEADERS))
    response = asyncio.run(_complete(AnthropicProvider("claude-test", ANTHROPIC_KEY, retry=fast_policy()[0])))
    assert response.data == ANSWER and response.extra["rate_limits"].tokens_limit == 30_000


async def _complete(provider: Any) -> Any:
    try:
        return await provider.complete(make_request())
    finally:
        await provider.aclose()
