"""AnthropicProvider at the wire (respx) and through a real loopback server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import respx
from fake_llm_server import Answer, Failure, FakeLLMServer
from provider_support import ANSWER, ANTHROPIC_KEY, SCHEMA, everything_said, fast_policy, make_request

from agent.errors import MissingKeyError, ProviderError, TransportError
from agent.providers import resolve_provider
from agent.providers.anthropic import ANTHROPIC_URL, AnthropicProvider
from agent.providers.base import ModelResponse, Usage

MESSAGES = f"{ANTHROPIC_URL}/v1/messages"
USAGE = {"input_tokens": 100, "output_tokens": 20}


def message(
    content: list[dict[str, Any]] | None = None, *, stop: str = "tool_use", usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    tool_use = {"type": "tool_use", "id": "toolu_1", "name": "overview", "input": ANSWER}
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [tool_use] if content is None else content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage or USAGE,
    }


def ok(content: list[dict[str, Any]] | None = None, **kwargs: Any) -> httpx.Response:
    return httpx.Response(200, json=message(content, **kwargs))


def error(status: int, headers: dict[str, str] | None = None, message: str = "boom") -> httpx.Response:
    body = {"type": "error", "error": {"type": "api_error", "message": message}}
    return httpx.Response(status, headers=headers, json=body)


def provider(attempts: int = 4) -> tuple[AnthropicProvider, list[float]]:
    policy, sleep = fast_policy(attempts)
    return AnthropicProvider("claude-test", ANTHROPIC_KEY, retry=policy), sleep.waits


def complete(target: AnthropicProvider) -> ModelResponse:
    return asyncio.run(target.complete(make_request()))


def sent(route: respx.Route) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[-1].request.content)
    return body


# --- the request -------------------------------------------------------------------------------


@respx.mock
def test_happy_path_forces_the_tool_and_caches_the_prefix() -> None:
    route = respx.post(MESSAGES).mock(return_value=ok())
    target, _ = provider()
    response = complete(target)

    body = sent(route)
    assert body["tools"] == [
        {"name": "overview", "description": body["tools"][0]["description"], "input_schema": SCHEMA}
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "overview"}
    assert body["max_tokens"] == 1234
    # The shared prefix is a cached system block: a section's own tool_choice invalidates only the messages.
    assert body["system"] == [
        {"type": "text", "text": "You write implementation plans."},
        {"type": "text", "text": "BRIEF: add rate limiting to the public API.", "cache_control": {"type": "ephemeral"}},
    ]
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Write the Overview section."}]}]
    assert route.calls[0].request.headers["x-api-key"] == ANTHROPIC_KEY
    assert response.data == ANSWER and response.stop == "complete"
    assert json.loads(response.text) == ANSWER
    assert response.usage == Usage(calls=1, input_tokens=100, output_tokens=20)


@respx.mock
def test_without_a_prefix_the_system_text_is_the_cached_part() -> None:
    route = respx.post(MESSAGES).mock(return_value=ok())
    target, _ = provider()
    asyncio.run(target.complete(make_request(shared_prefix="")))
    body = sent(route)
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"][0]["content"] == [{"type": "text", "text": "Write the Overview section."}]


@respx.mock
def test_schema_description_becomes_the_tool_description() -> None:
    route = respx.post(MESSAGES).mock(return_value=ok())
    target, _ = provider()
    schema = SCHEMA | {"description": "The plan's overview."}
    asyncio.run(target.complete(make_request(schema=schema)))
    assert sent(route)["tools"][0]["description"] == "The plan's overview."


@respx.mock
def test_a_prefix_other_drafts_share_gets_its_own_breakpoint() -> None:
    route = respx.post(MESSAGES).mock(return_value=ok())
    target, _ = provider()
    asyncio.run(target.complete(make_request(shared_prefix="REPO: shared. BRIEF: own.", common_prefix_chars=14)))
    system = sent(route)["system"]
    assert [block["text"] for block in system[1:]] == ["REPO: shared. ", "BRIEF: own."]
    assert all(block["cache_control"] == {"type": "ephemeral"} for block in system[1:])
    assert sum("cache_control" in block for block in system) <= 4


@respx.mock
def test_no_output_is_the_documented_pre_warm_which_cannot_force_a_tool() -> None:
    route = respx.post(MESSAGES).mock(return_value=ok())
    target, _ = provider()
    asyncio.run(target.complete(make_request(max_output_tokens=0)))
    body = sent(route)
    assert body["max_tokens"] == 0 and body["tool_choice"] == {"type": "auto"}


# --- the answer --------------------------------------------------------------------------------


@respx.mock
def test_usage_counts_every_prompt_token() -> None:
    usage = USAGE | {"cache_read_input_tokens": 2000, "cache_creation_input_tokens": 500}
    respx.post(MESSAGES).mock(return_value=ok(usage=usage))
    target, _ = provider()
    response = complete(target)
    assert response.usage == Usage(
        calls=1, input_tokens=2600, output_tokens=20, cache_read_tokens=2000, cache_write_tokens=500
    )


@respx.mock
def test_max_tokens_is_truncated() -> None:
    respx.post(MESSAGES).mock(return_value=ok(stop="max_tokens"))
    target, _ = provider()
    assert complete(target).stop == "truncated"


@respx.mock
def test_refusal() -> None:
    respx.post(MESSAGES).mock(return_value=ok([{"type": "text", "text": "I won't."}], stop="refusal"))
    target, _ = provider()
    response = complete(target)
    assert response.stop == "refused" and response.refusal == "I won't." and response.data is None


@respx.mock
def test_prose_instead_of_the_tool_keeps_the_text() -> None:
    respx.post(MESSAGES).mock(return_value=ok([{"type": "text", "text": "Here you go"}], stop="end_turn"))
    target, _ = provider()
    response = complete(target)
    assert response.data is None and response.text == "Here you go" and response.stop == "complete"


# --- retries -----------------------------------------------------------------------------------


@respx.mock
def test_429_waits_as_the_header_says_then_succeeds() -> None:
    route = respx.post(MESSAGES).mock(side_effect=[error(429, {"retry-after": "4"}), ok()])
    target, waits = provider()
    response = complete(target)
    assert waits == [4.0] and route.call_count == 2 and response.usage.calls == 2


@respx.mock
def test_overloaded_then_exhaustion() -> None:
    route = respx.post(MESSAGES).mock(side_effect=[error(529), ok()])
    target, waits = provider()
    assert complete(target).data == ANSWER and waits == [1.0]

    route.side_effect = [error(529, message="Overloaded")] * 4
    with pytest.raises(TransportError, match=r"^anthropic: HTTP 529 after 4 attempts: Overloaded; .*later") as caught:
        complete(target)
    assert caught.value.attempts == 4


@respx.mock
def test_timeout() -> None:
    respx.post(MESSAGES).mock(side_effect=httpx.ReadTimeout("slow"))
    target, waits = provider(attempts=3)
    with pytest.raises(TransportError, match="anthropic: no answer within the call timeout after 3 attempts"):
        complete(target)
    assert len(waits) == 2


@respx.mock
def test_401_is_not_retried_and_keeps_the_key_secret() -> None:
    route = respx.post(MESSAGES).mock(return_value=error(401, message=f"invalid x-api-key {ANTHROPIC_KEY}"))
    target, waits = provider()
    with pytest.raises(ProviderError) as caught:
        complete(target)
    assert not isinstance(caught.value, TransportError)
    assert route.call_count == 1 and waits == []
    assert str(caught.value) == "anthropic: the API key was rejected (HTTP 401); check ANTHROPIC_API_KEY"
    assert ANTHROPIC_KEY not in everything_said(caught.value)
    assert ANTHROPIC_KEY not in repr(target)


# --- a real server on loopback -----------------------------------------------------------------


def test_through_the_loopback_server(fake_llm_server: FakeLLMServer) -> None:
    fake_llm_server.push(Failure(429, headers={"retry-after": "0"}), Answer(data=ANSWER))
    policy, sleep = fast_policy()
    target = AnthropicProvider(
        "claude-test", ANTHROPIC_KEY, base_url=fake_llm_server.anthropic_base_url, retry=policy
    )

    long = make_request(shared_prefix="REPOSITORY: src/app.py, src/limits.py. " * 120)  # past the 1,024-token minimum

    async def twice() -> tuple[ModelResponse, ModelResponse]:
        try:
            return await target.complete(long), await target.complete(long)
        finally:
            await target.aclose()

    first, second = asyncio.run(twice())
    assert first.data == ANSWER and first.usage.calls == 2 and sleep.waits == [0.0]
    assert first.usage.cache_write_tokens > 0  # the marked prefix was stored ...
    assert second.usage.cache_read_tokens == first.usage.cache_write_tokens  # ... and read back
    assert set(second.data or {}) == {"title", "steps", "risk"}
    assert fake_llm_server.requests[-1].headers["x-api-key"] == ANTHROPIC_KEY


# --- resolve_provider --------------------------------------------------------------------------


def test_resolve_anthropic() -> None:
    env = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "ANTHROPIC_BASE_URL": "http://proxy:9/"}
    found = resolve_provider("anthropic:claude-haiku-4-5", env=env)
    assert found.name == "anthropic:claude-haiku-4-5" and "http://proxy:9" in repr(found)


def test_missing_key() -> None:
    expected = "No key for anthropic: set ANTHROPIC_API_KEY, or use --model offline"
    with pytest.raises(MissingKeyError, match=expected):
        resolve_provider("anthropic:claude-haiku-4-5", env={"OPENAI_API_KEY": "sk-other"})


@respx.mock
def test_an_answer_that_is_not_a_message_names_the_base_url() -> None:
    """A base URL that reaches a web page, not the API: one line saying so, not a traceback, not retried."""
    route = respx.post(MESSAGES).mock(return_value=httpx.Response(200, text="<html>Sign in</html>"))
    target, waits = provider()
    with pytest.raises(ProviderError, match=r"https://api\.anthropic\.com answered with something that is not a "
                                            r"Messages response; check the base URL \(--base-url, ANTHROPIC_BASE_URL\)"):
        complete(target)
    assert route.call_count == 1 and waits == []
