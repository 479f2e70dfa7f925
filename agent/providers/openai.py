"""OpenAI, and every OpenAI-compatible server, through Chat Completions with a strict JSON schema.

Chat Completions rather than the Responses API: every OpenAI-compatible server (Ollama, vLLM,
LM Studio, llama.cpp, OpenRouter) speaks Chat Completions, while few speak Responses, so one adapter
serves them all.

OpenAI renders tools and the `response_format` schema ahead of the messages, and caches only an exact
prefix of 1,024 tokens or more: a schema per section in `response_format` would give every section a
prefix of its own. So on OpenAI's own platform every call carries the same strict function tools (one
per section) and forces the one it wants, and a `prompt_cache_key` shared by the calls that share the
prefix routes them to the same cache. Compatible servers, which may lack forced tools or reject unknown
fields, get the structured answer from `response_format` of type `json_schema`, strict.
"""


from __future__ import annotations

import hashlib
import json
from typing import Any

from agent.errors import ProviderError
from agent.providers.base import Capabilities, ModelRequest, ModelResponse, StopReason, Usage, context_window
from agent.providers.retry import (
    DEFAULT_TIMEOUT_S,
    Fault,
    RetryPolicy,
    Service,
    fault_from_status,
)
from agent.providers.sdk import SDKProvider, client_timeout, tls_context

try:
    import openai
    from openai.types import CompletionUsage
    from openai.types.chat import ChatCompletion
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ProviderError(
        "The openai package is not installed; run `pip install 'openai>=2,<3'` or use --model offline"
    ) from exc

OPENAI_URL = "https://api.openai.com/v1"
TOOL_DESCRIPTION = "Give your answer by calling this function with arguments that match its parameters."
# Prompt and answer tokens each model family takes, from OpenAI's model pages (checked 2026). A model not
# listed (gpt-5.4 has a larger window than gpt-5) declares none, so nothing is refused for it.
CONTEXT_WINDOWS = {"gpt-4.1": 1_047_576, "gpt-5": 400_000, "gpt-4o": 128_000, "o3": 200_000, "o4-mini": 200_000}


class OpenAIProvider(SDKProvider["openai.AsyncOpenAI"]):
    """`Provider` for OpenAI's Chat Completions API and servers that imitate it."""

    sdk_errors = (openai.APIStatusError, openai.APIConnectionError)

    def __init__(
        self,
        model: str,
        api_key: str,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        *,
        name: str | None = None,
        platform: bool | None = None,
    ) -> None:
        name = name or f"openai:{model}"
        url = (base_url or OPENAI_URL).rstrip("/")
        client = openai.AsyncOpenAI(api_key=api_key, base_url=url, max_retries=0, timeout=client_timeout(timeout),
                                    http_client=openai.DefaultAsyncHttpxClient(verify=tls_context()))
        service = Service(name.split(":")[0], url, "OPENAI_API_KEY", api_key)
        super().__init__(model, name, client, service, retry, read=to_response, fault=to_fault)
        # OpenAI's platform features (forced function tools, prompt_cache_key); by default only there.
        self.platform = url == OPENAI_URL if platform is None else platform
        # A prefix serves only calls that start after an earlier call has processed it: the draft loop
        # writes it once before fanning out. Ollama has no batch API; OpenAI and servers imitating it may.
        window = context_window(model, CONTEXT_WINDOWS)
        self.capabilities = Capabilities(warm_cache_first=self.platform, batch_api=not name.startswith("ollama:"),
                                         forced_tools=self.platform, context_window=window)
        # OpenAI's reasoning models reject `max_tokens`, but Ollama and LM Studio only read `max_tokens`
        # (Ollama's `max_completion_tokens` support is still unmerged): pick by who we talk to.
        self._limit_param = "max_completion_tokens" if url == OPENAI_URL else "max_tokens"

    def wire_body(self, request: ModelRequest) -> dict[str, Any]:
        """The Chat Completions body for `request`, as sent here or in a batch API line."""
        return chat_body(self.model, request, self._limit_param, self.platform)

    async def _send(self, client: openai.AsyncOpenAI, body: dict[str, Any]) -> tuple[ChatCompletion, Any]:
        answer, headers = await self._post(client, "/chat/completions", body, "Chat Completions",
                                           "--base-url, OPENAI_BASE_URL")
        return ChatCompletion.construct(**answer), headers  # as the SDK builds it: a server's omissions pass


def chat_body(model: str, request: ModelRequest, limit_param: str, platform: bool = False) -> dict[str, Any]:
    """The Chat Completions request: system, then the shared prefix, then the varying prompt.

    The prefix goes first and byte-identical so automatic prefix caching can serve it; on OpenAI's
    platform the tools ahead of it are the same in every call too. Empty parts are left out because some
    compatible servers reject empty messages. OpenAI has no request for no output: a pre-warm
    (`max_output_tokens=0`) asks for one token.
    """
    messages = [
        {"role": "system", "content": request.system},
        {"role": "user", "content": request.shared_prefix},
        {"role": "user", "content": request.prompt},
    ]
    body: dict[str, Any] = {
        "model": model,
        "messages": [message for message in messages if message["content"]],
        limit_param: max(request.max_output_tokens, 1),
    }
    if not platform:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": request.schema_name, "strict": True, "schema": request.schema},
        }
        return body
    toolbox = request.toolbox or ((request.schema_name, request.schema),)
    common = request.system + request.shared_prefix[: request.common_prefix_chars or None]
    return body | {
        "tools": [{"type": "function", "function": {"name": name, "description": schema.get("description")
                                                    or TOOL_DESCRIPTION, "strict": True, "parameters": schema}}
                  for name, schema in toolbox],
        "tool_choice": {"type": "function", "function": {"name": request.schema_name}},
        "parallel_tool_calls": False,
        "prompt_cache_key": "plan-" + hashlib.sha256(common.encode()).hexdigest()[:24],
    }


def to_response(completion: ChatCompletion, attempts: int) -> ModelResponse:
    usage = to_usage(completion.usage, attempts)
    if not completion.choices:
        return ModelResponse(data=None, text="", stop="complete", usage=usage)
    choice = completion.choices[0]
    calls = choice.message.tool_calls or []  # the forced function's arguments are the answer
    text = next((call.function.arguments for call in calls if call.type == "function"), None) \
        or choice.message.content or ""
    extra = {"finish_reason": choice.finish_reason, "id": completion.id}
    filtered = "the provider's content filter stopped the answer" if choice.finish_reason == "content_filter" else None
    refusal = choice.message.refusal or filtered
    if refusal:
        return ModelResponse(data=None, text=text, stop="refused", usage=usage, refusal=refusal, extra=extra)
    stop: StopReason = "truncated" if choice.finish_reason == "length" else "complete"
    return ModelResponse(data=parse_object(text), text=text, stop=stop, usage=usage, extra=extra)


def parse_object(text: str) -> dict[str, Any] | None:
    """The JSON object in `text`, or None when it is not valid JSON or not an object."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def to_usage(usage: CompletionUsage | None, attempts: int) -> Usage:
    if usage is None:  # some compatible servers omit usage
        return Usage(calls=attempts)
    details = usage.prompt_tokens_details
    return Usage(
        calls=attempts,
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=(details and details.cached_tokens) or 0,
        cache_write_tokens=(details and details.cache_write_tokens) or 0,
    )


def to_fault(exc: openai.APIStatusError | openai.APIConnectionError) -> Fault:
    if isinstance(exc, openai.APIStatusError):
        return fault_from_status(exc.status_code, exc.response.headers, exc.body)
    return Fault("timeout" if isinstance(exc, openai.APITimeoutError) else "connection")
