"""Anthropic's Messages API, with the answer's schema as one forced tool.

Forcing the tool (`tool_choice` of type `tool`) makes the model answer with an object shaped by
`input_schema`, which Anthropic parses for us. Every call sends every section's tool, so the tools are
the same bytes in every call.

Anthropic caches in three tiers, tools -> system -> messages, and a change of `tool_choice` invalidates
the messages tier alone ("Invalidation hierarchy" in the prompt-caching guide). Each section forces its
own tool, so whatever sits in the messages is never read back from the cache: the shared prefix goes
into `system` blocks after the system prompt, each closed by a breakpoint (the part every brief shares,
then the brief), and the user turn holds only the section prompt. The repository and the brief keep
their labels as untrusted data, and the system prompt says that instructions inside them are content.
A request for no output (`max_output_tokens=0`) is the documented cache pre-warm: `max_tokens: 0`,
which refuses a forced tool, so it lets the model choose (nothing is generated either way).
"""

from __future__ import annotations

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
    import anthropic
    from anthropic.types import Message, TextBlock, ToolUseBlock
    from anthropic.types import Usage as AnthropicUsage
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ProviderError(
        "The anthropic package is not installed; run `pip install 'anthropic<1'` or use --model offline"
    ) from exc

ANTHROPIC_URL = "https://api.anthropic.com"
TOOL_DESCRIPTION = "Give your answer by calling this tool with an object that matches its input schema."
CACHE_HERE = {"type": "ephemeral"}
TRUNCATED = frozenset({"max_tokens", "model_context_window_exceeded"})
# Prompt and answer tokens each model family takes (Anthropic's "Context windows" page, checked 2026: a
# request whose prompt and `max_tokens` pass it is refused). A model not listed declares none.
CONTEXT_WINDOWS = {"claude-opus-4-6": 1_000_000, "claude-sonnet-4-6": 1_000_000, "claude-opus-4-5": 200_000,
                   "claude-sonnet-4-5": 200_000, "claude-haiku-4-5": 200_000, "claude-opus-4-1": 200_000,
                   "claude-3": 200_000}


class AnthropicProvider(SDKProvider["anthropic.AsyncAnthropic"]):
    """`Provider` for Anthropic's Messages API."""

    sdk_errors = (anthropic.APIStatusError, anthropic.APIConnectionError)

    def __init__(
        self,
        model: str,
        api_key: str,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        url = (base_url or ANTHROPIC_URL).rstrip("/")
        client = anthropic.AsyncAnthropic(api_key=api_key, base_url=url, max_retries=0, timeout=client_timeout(timeout),
                                          http_client=anthropic.DefaultAsyncHttpxClient(verify=tls_context()))
        service = Service("anthropic", url, "ANTHROPIC_API_KEY", api_key)
        super().__init__(model, f"anthropic:{model}", client, service, retry, read=to_response, fault=to_fault)
        # The cache serves only what an earlier request wrote: the draft loop writes it once before fanning out.
        self.capabilities = Capabilities(warm_cache_first=True, batch_api=True, forced_tools=True,
                                         context_window=context_window(model, CONTEXT_WINDOWS))

    def wire_body(self, request: ModelRequest) -> dict[str, Any]:
        """The Messages body for `request`, as sent here or in a message batch."""
        return messages_body(self.model, request)

    async def _send(self, client: anthropic.AsyncAnthropic, body: dict[str, Any]) -> tuple[Message, Any]:
        answer, headers = await self._post(client, "/v1/messages", body, "Messages", "--base-url, ANTHROPIC_BASE_URL")
        return Message.construct(**answer), headers  # as the SDK builds it: no validation


def messages_body(model: str, request: ModelRequest) -> dict[str, Any]:
    """The Messages request: system prompt and shared prefix as cached system blocks, then the section prompt.

    A prefix whose first part other drafts share goes as two blocks, each closed by a breakpoint (two of
    the four allowed), so the next draft (a batch's next item) reads the first from the cache.
    """
    split = request.common_prefix_chars
    prefix = [request.shared_prefix[:split], request.shared_prefix[split:]] if split else [request.shared_prefix]
    system: list[dict[str, Any]] = [{"type": "text", "text": request.system}] if request.system else []
    # A breakpoint closes each part that repeats across calls; the API rejects empty text blocks.
    cached = [{"type": "text", "text": text, "cache_control": CACHE_HERE} for text in prefix if text]
    if system and not cached:
        system[-1]["cache_control"] = CACHE_HERE
    system += cached
    forced = {"type": "tool", "name": request.schema_name}
    return {
        "model": model,
        "max_tokens": request.max_output_tokens,
        "system": system,
        "messages": [{"role": "user", "content": [{"type": "text", "text": request.prompt}]}],
        "tools": [{"name": name, "description": schema.get("description") or TOOL_DESCRIPTION, "input_schema": schema}
                  for name, schema in request.toolbox or ((request.schema_name, request.schema),)],
        "tool_choice": forced if request.max_output_tokens else {"type": "auto"},
    }


def to_response(message: Message, attempts: int) -> ModelResponse:
    usage = to_usage(message.usage, attempts)
    tool = next((block for block in message.content if isinstance(block, ToolUseBlock)), None)
    prose = "".join(block.text for block in message.content if isinstance(block, TextBlock))
    extra = {"stop_reason": message.stop_reason, "id": message.id}
    if message.stop_reason == "refusal":
        refusal = prose or "the model declined to answer"
        return ModelResponse(data=None, text=prose, stop="refused", usage=usage, refusal=refusal, extra=extra)
    stop: StopReason = "truncated" if message.stop_reason in TRUNCATED else "complete"
    if tool is None:
        return ModelResponse(data=None, text=prose, stop=stop, usage=usage, extra=extra)
    text = json.dumps(tool.input, ensure_ascii=False)
    return ModelResponse(data=dict(tool.input), text=text, stop=stop, usage=usage, extra=extra)


def to_usage(usage: AnthropicUsage, attempts: int) -> Usage:
    """Anthropic reports uncached input apart from cache reads and writes; `Usage` wants the total."""
    cache_read = usage.cache_read_input_tokens or 0
    cache_write = usage.cache_creation_input_tokens or 0
    return Usage(
        calls=attempts,
        input_tokens=usage.input_tokens + cache_read + cache_write,
        output_tokens=usage.output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def to_fault(exc: anthropic.APIStatusError | anthropic.APIConnectionError) -> Fault:
    if isinstance(exc, anthropic.APIStatusError):
        return fault_from_status(exc.status_code, exc.response.headers, exc.body)
    return Fault("timeout" if isinstance(exc, anthropic.APITimeoutError) else "connection")
