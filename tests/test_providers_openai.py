"""OpenAIProvider at the wire (respx), through a real loopback server, and the provider registry."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from fake_llm_server import Answer, Failure, FakeLLMServer
from provider_support import ANSWER, OPENAI_KEY, SCHEMA, everything_said, fast_policy, make_request

from agent.errors import InputError, MissingKeyError, ProviderError, TransportError
from agent.providers import resolve_provider
from agent.providers.base import ModelResponse, Usage
from agent.providers.openai import OPENAI_URL, OpenAIProvider

CHAT = f"{OPENAI_URL}/chat/completions"
ROOT = Path(__file__).resolve().parents[1]


def completion(
    content: str | None = None,
    *,
    finish: str = "stop",
    refusal: str | None = None,
    usage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    message = {"role": "assistant", "content": content, "refusal": refusal}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-test",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage or {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def ok(content: str | None = None, **kwargs: Any) -> httpx.Response:
    return httpx.Response(200, json=completion(json.dumps(ANSWER) if content is None else content, **kwargs))


def error(status: int, headers: dict[str, str] | None = None, message: str = "boom") -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"error": {"message": message, "type": "x"}})


def provider(attempts: int = 4, base_url: str | None = None) -> tuple[OpenAIProvider, list[float]]:
    policy, sleep = fast_policy(attempts)
    return OpenAIProvider("gpt-test", OPENAI_KEY, base_url=base_url, retry=policy), sleep.waits


def complete(target: OpenAIProvider) -> ModelResponse:
    return asyncio.run(target.complete(make_request()))


def sent(route: respx.Route, call: int = -1) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(route.calls[call].request.content)
    return body


# --- the request -------------------------------------------------------------------------------


@respx.mock
def test_happy_path_forces_a_strict_function_and_sends_the_prefix_first() -> None:
    route = respx.post(CHAT).mock(return_value=ok())
    target, _ = provider()
    response = complete(target)

    body = sent(route)
    function = {"name": "overview", "description": body["tools"][0]["function"]["description"], "strict": True,
                "parameters": SCHEMA}
    assert body["tools"] == [{"type": "function", "function": function}] and "response_format" not in body
    assert body["tool_choice"] == {"type": "function", "function": {"name": "overview"}}
    assert body["prompt_cache_key"].startswith("plan-")
    assert body["messages"] == [
        {"role": "system", "content": "You write implementation plans."},
        {"role": "user", "content": "BRIEF: add rate limiting to the public API."},
        {"role": "user", "content": "Write the Overview section."},
    ]
    assert body["max_completion_tokens"] == 1234 and "max_tokens" not in body
    assert route.calls[0].request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert response.data == ANSWER and response.stop == "complete" and response.refusal is None
    assert response.usage == Usage(calls=1, input_tokens=100, output_tokens=20)


@respx.mock
def test_the_answer_is_the_forced_functions_arguments() -> None:
    answer = completion(None)
    call = {"id": "call_1", "type": "function", "function": {"name": "overview", "arguments": json.dumps(ANSWER)}}
    answer["choices"][0]["message"]["tool_calls"] = [call]
    respx.post(CHAT).mock(return_value=httpx.Response(200, json=answer))
    target, _ = provider()
    response = complete(target)
    assert response.data == ANSWER and response.stop == "complete"


@respx.mock
def test_one_cache_key_for_the_calls_that_share_the_common_prefix() -> None:
    route = respx.post(CHAT).mock(return_value=ok())
    target, _ = provider()
    for prefix, prompt in (("REPO. BRIEF A.", "Write goal."), ("REPO. BRIEF B.", "Write steps."), ("OTHER. A.", "x")):
        asyncio.run(target.complete(make_request(shared_prefix=prefix, prompt=prompt, common_prefix_chars=6)))
    keys = [json.loads(call.request.content)["prompt_cache_key"] for call in route.calls]
    assert keys[0] == keys[1] != keys[2]  # a batch's items share one key; another repository gets another


@respx.mock
def test_compatible_servers_get_a_strict_response_format() -> None:
    route = respx.post("http://localhost:8000/v1/chat/completions").mock(return_value=ok())
    target, _ = provider(base_url="http://localhost:8000/v1/")
    complete(target)
    body = sent(route)
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "overview", "strict": True, "schema": SCHEMA},
    }
    assert "tools" not in body and "prompt_cache_key" not in body


@respx.mock
def test_compatible_servers_get_max_tokens() -> None:
    route = respx.post("http://localhost:8000/v1/chat/completions").mock(return_value=ok())
    target, _ = provider(base_url="http://localhost:8000/v1/")
    complete(target)
    body = sent(route)
    assert body["max_tokens"] == 1234 and "max_completion_tokens" not in body


@respx.mock
def test_empty_prefix_is_left_out() -> None:
    route = respx.post(CHAT).mock(return_value=ok())
    target, _ = provider()
    asyncio.run(target.complete(make_request(shared_prefix="")))
    assert [m["content"] for m in sent(route)["messages"]][1:] == ["Write the Overview section."]


# --- the answer --------------------------------------------------------------------------------


@respx.mock
def test_usage_reports_cache_reads_and_writes() -> None:
    usage = {
        "prompt_tokens": 3000,
        "completion_tokens": 50,
        "total_tokens": 3050,
        "prompt_tokens_details": {"cached_tokens": 2048, "cache_write_tokens": 512},
    }
    respx.post(CHAT).mock(return_value=ok(usage=usage))
    target, _ = provider()
    response = complete(target)
    assert response.usage == Usage(
        calls=1, input_tokens=3000, output_tokens=50, cache_read_tokens=2048, cache_write_tokens=512
    )


@respx.mock
def test_length_finish_is_truncated() -> None:
    respx.post(CHAT).mock(return_value=ok('{"title": "Rate li', finish="length"))
    target, _ = provider()
    response = complete(target)
    assert response.stop == "truncated" and response.data is None and response.text == '{"title": "Rate li'


@pytest.mark.parametrize("content", ["not json at all", "[1, 2]", "```json\n{}\n```"])
@respx.mock
def test_malformed_json_keeps_the_text(content: str) -> None:
    respx.post(CHAT).mock(return_value=ok(content))
    target, _ = provider()
    response = complete(target)
    assert response.data is None and response.text == content and response.stop == "complete"


@respx.mock
def test_refusal() -> None:
    respx.post(CHAT).mock(return_value=ok("", refusal="I can't help with that."))
    target, _ = provider()
    response = complete(target)
    assert response.stop == "refused" and response.refusal == "I can't help with that."
    assert response.data is None


# --- retries -----------------------------------------------------------------------------------


@respx.mock
def test_429_waits_as_the_header_says_then_succeeds() -> None:
    route = respx.post(CHAT).mock(side_effect=[error(429, {"retry-after-ms": "1500"}), ok()])
    target, waits = provider()
    response = complete(target)
    assert waits == [1.5] and route.call_count == 2
    assert response.data == ANSWER and response.usage.calls == 2  # the failed attempt is counted too


@respx.mock
def test_5xx_then_success_then_exhaustion() -> None:
    route = respx.post(CHAT).mock(side_effect=[error(502), error(503), ok()])
    target, waits = provider()
    assert complete(target).usage.calls == 3
    assert waits == [1.0, 2.0]

    route.side_effect = [error(500)] * 4
    with pytest.raises(TransportError) as caught:
        complete(target)
    assert str(caught.value) == (
        "openai: HTTP 500 after 4 attempts: boom; the service may be down — try again later "
        "or use --model offline"
    )
    assert caught.value.attempts == 4  # a call that failed says how many attempts it made, for the draft to count


@respx.mock
def test_timeout_is_retried_and_reported() -> None:
    route = respx.post(CHAT).mock(side_effect=[httpx.ReadTimeout("slow"), ok()])
    target, _ = provider()
    assert complete(target).data == ANSWER

    route.side_effect = httpx.ReadTimeout("slow")
    with pytest.raises(TransportError, match="openai: no answer within the call timeout after 4 attempts"):
        complete(target)


@respx.mock
def test_connection_error_names_the_server() -> None:
    respx.post(CHAT).mock(side_effect=httpx.ConnectError("refused"))
    target, _ = provider(attempts=2)
    with pytest.raises(TransportError, match=r"could not connect to https://api\.openai\.com/v1 after 2"):
        complete(target)


@respx.mock
@pytest.mark.parametrize("page", ["<html><body>Sign in</body></html>", '["not", "an", "answer"]'])
def test_an_answer_that_is_not_a_completion_names_the_base_url(page: str) -> None:
    """A base URL that reaches a web page, not the API: one line saying so, not a traceback, not retried."""
    route = respx.post(CHAT).mock(return_value=httpx.Response(200, text=page))
    target, waits = provider()
    with pytest.raises(ProviderError, match=r"https://api\.openai\.com/v1 answered with something that is not a "
                                            r"Chat Completions response; check the base URL") as caught:
        complete(target)
    assert route.call_count == 1 and waits == [] and caught.value.attempts == 1


@respx.mock
def test_401_is_not_retried() -> None:
    message = f"Incorrect API key provided: {OPENAI_KEY}"
    route = respx.post(CHAT).mock(return_value=error(401, message=message))
    target, waits = provider()
    with pytest.raises(ProviderError) as caught:
        complete(target)
    assert not isinstance(caught.value, TransportError)
    assert route.call_count == 1 and waits == []
    assert "check OPENAI_API_KEY" in str(caught.value)
    assert OPENAI_KEY not in everything_said(caught.value)


@pytest.mark.parametrize("status", [400, 403, 404, 422])
@respx.mock
def test_client_errors_are_not_retried(status: int) -> None:
    route = respx.post(CHAT).mock(return_value=error(status, message=f"bad request for {OPENAI_KEY}"))
    target, _ = provider()
    with pytest.raises(ProviderError) as caught:
        complete(target)
    assert route.call_count == 1
    assert OPENAI_KEY not in everything_said(caught.value)


def test_the_key_never_shows_in_repr() -> None:
    target, _ = provider()
    assert OPENAI_KEY not in repr(target) and OPENAI_KEY not in str(target)


# --- a real server on loopback -----------------------------------------------------------------


def test_through_the_loopback_server(fake_llm_server: FakeLLMServer) -> None:
    fake_llm_server.push(Failure(503, headers={"retry-after": "0"}), Answer(data=ANSWER))
    policy, sleep = fast_policy()
    target = OpenAIProvider("gpt-test", OPENAI_KEY, base_url=fake_llm_server.openai_base_url, retry=policy,
                            platform=True)
    long = make_request(shared_prefix="REPOSITORY: src/app.py, src/limits.py. " * 120)  # past 1,024 tokens

    async def twice() -> tuple[ModelResponse, ModelResponse]:
        try:
            return await target.complete(long), await target.complete(long)
        finally:
            await target.aclose()

    first, second = asyncio.run(twice())
    assert first.data == ANSWER and first.usage.calls == 2 and sleep.waits == [0.0]
    assert set(second.data or {}) == {"title", "steps", "risk"}  # the schema filler answered
    assert second.usage.cache_read_tokens >= 1024  # the prefix repeated
    request = fake_llm_server.requests[-1]
    assert request.body["max_tokens"] == 1234 and request.function is not None
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"


# --- resolve_provider --------------------------------------------------------------------------


def test_resolve_openai_and_ollama() -> None:
    openai_provider = resolve_provider("openai:gpt-4.1-mini", env={"OPENAI_API_KEY": OPENAI_KEY})
    assert openai_provider.name == "openai:gpt-4.1-mini" and openai_provider.model == "gpt-4.1-mini"
    local = resolve_provider("ollama:llama3.1", env={})
    assert local.name == "ollama:llama3.1" and "localhost:11434/v1" in repr(local)


def test_custom_base_url_needs_no_key() -> None:
    found = resolve_provider("openai:qwen", env={"OPENAI_BASE_URL": "http://gpu-box:8000/v1"})
    assert "gpu-box:8000" in repr(found)
    flag = resolve_provider("openai:qwen", base_url="http://flag:1/v1", env={"OPENAI_BASE_URL": "http://x/v1"})
    assert "flag:1" in repr(flag)


def test_missing_key() -> None:
    with pytest.raises(MissingKeyError, match="No key for openai: set OPENAI_API_KEY, or use --model offline"):
        resolve_provider("openai:gpt-4.1", env={"OPENAI_API_KEY": ""})


@pytest.mark.parametrize("spec", ["mystery:model", "gpt-4.1", "openai:", "offline"])
def test_unknown_or_incomplete_specs(spec: str) -> None:
    with pytest.raises(InputError):
        resolve_provider(spec, env={"OPENAI_API_KEY": OPENAI_KEY})


def test_importing_providers_loads_no_sdk() -> None:
    code = "import agent.providers, sys; assert not {'openai', 'anthropic'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_completion_loads_none_of_the_sdks_resources() -> None:
    """Reaching `client.chat` imports every resource module (admin APIs included): half a second of each start."""
    code = ("import asyncio, sys, httpx, respx; sys.path.insert(0, 'tests'); "
            "from provider_support import make_request, ANSWER; "
            "from agent.providers.openai import OpenAIProvider; "
            "respx.start(); respx.post('https://api.openai.com/v1/chat/completions').mock(return_value=httpx.Response("
            "200, json={'id': 'c', 'object': 'chat.completion', 'created': 0, 'model': 'm', 'choices': [{'index': 0, "
            "'finish_reason': 'stop', 'message': {'role': 'assistant', 'content': __import__('json').dumps(ANSWER)}}]})); "
            "answer = asyncio.run(OpenAIProvider('gpt-4.1-mini', 'sk-test-12345678').complete(make_request())); "
            "assert answer.data == ANSWER, answer; "
            "assert not [name for name in sys.modules if name.startswith('openai.resources')], 'resources loaded'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_clients_share_one_tls_context_that_still_verifies_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the CA bundle costs about 20 ms of CPU; an eval run or the MCP server builds a client per draft."""
    import ssl

    from agent.providers.anthropic import AnthropicProvider
    from agent.providers.sdk import tls_context

    loads: list[object] = []
    load = ssl.SSLContext.load_verify_locations
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations",
                        lambda self, *args, **kwargs: loads.append(args) or load(self, *args, **kwargs))
    for _ in range(3):
        OpenAIProvider("gpt-4.1-mini", OPENAI_KEY)
        AnthropicProvider("claude-sonnet-4-5", "sk-ant-test")
    assert len(loads) <= 1
    assert tls_context().verify_mode == ssl.CERT_REQUIRED and tls_context().check_hostname
