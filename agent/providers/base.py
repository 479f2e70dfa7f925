"""The one seam between the draft loop and a model: `Provider.complete(ModelRequest) -> ModelResponse`.

Provider modules translate this request into their wire format and the answer back; they decide
nothing about plans. The draft loop never imports an SDK.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from agent.providers.ratelimits import read_rate_limits

StopReason = Literal["complete", "truncated", "refused"]


@dataclass(frozen=True)
class Usage:
    """Tokens as the provider reported them, summed over every attempt (failed ones too). A value: whoever
    owns the spending (a draft, a batch) adds up the usage of its own responses, not the provider.

    `input_tokens` counts every prompt token, cached or not, so figures compare across providers;
    `cache_read_tokens` and `cache_write_tokens` say how many of them the cache served or stored.
    """

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
        )


@dataclass(frozen=True)
class Capabilities:
    """What a provider supports, declared as data so the draft loop and the batch runner read it instead of
    probing the provider object (the pydantic-ai `ModelProfile` idea). Wrappers pass their inner provider's on."""

    # Its prompt cache serves only what an earlier, finished request wrote (Anthropic; OpenAI's platform):
    # the draft loop writes it with one request before the sections fan out.
    warm_cache_first: bool = False
    # `plan batch --via batch-api` can send its calls through the provider's batch API.
    batch_api: bool = False
    # Every call carries every section's tool and forces the one it wants, so the tools are a shared prefix.
    forced_tools: bool = False
    # Prompt and answer tokens the model accepts, when known; None is "not known", never "unlimited".
    context_window: int | None = None
    # It can write the plan spine and review the whole plan; the offline drafter fills sections only.
    drafts_whole_plan: bool = True
    # Its calls count against an account's requests and tokens a minute, so a batch paces them; the offline
    # drafter calls nothing and is never held back.
    rate_limited: bool = True


def context_window(model: str, windows: Mapping[str, int]) -> int | None:
    """The window of `model`'s family in `windows`: the family itself or a dated or sized member of it
    (`gpt-4.1-mini`, `claude-sonnet-4-5-20250929`), never a later version (`gpt-5.4` is not `gpt-5`)."""
    return next((size for family, size in windows.items() if model == family or model.startswith(family + "-")),
                None)


@dataclass(frozen=True)
class ModelRequest:
    """One structured-output call.

    `system` and `shared_prefix` are byte-identical across every section call of a draft, so the
    provider's prompt cache can serve them; `prompt` is the part that differs per section.
    """

    system: str
    shared_prefix: str
    prompt: str
    schema: dict[str, Any]
    schema_name: str
    # 0 asks for no output at all: a request that only writes the prompt cache (Anthropic's `max_tokens: 0`
    # pre-warm; one token where the API has no such request).
    max_output_tokens: int = 4096
    # Every section's (name, schema), identical across a draft's calls. A provider that puts tool
    # definitions ahead of the cached prefix (Anthropic, api.openai.com) sends them all and forces
    # `schema_name`, so the cached prefix is the same for every section call.
    toolbox: tuple[tuple[str, dict[str, Any]], ...] = ()
    # How many leading characters of `shared_prefix` other drafts share too (a batch's template and
    # repository). Anthropic marks a cache breakpoint there as well; OpenAI names its cache after it.
    common_prefix_chars: int = 0


@dataclass(frozen=True)
class ModelResponse:
    """What came back: `data` is the parsed JSON object, or None when the text was not valid JSON."""

    data: dict[str, Any] | None
    text: str
    stop: StopReason
    usage: Usage
    refusal: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# Without the provider's tokenizer (no download at run time), a request's size is read from its wire body.
# `most` holds for every tokenizer in use: each is a byte-level BPE, whose tokens cover at least one byte, and
# the JSON (escapes, keys, quotes) is longer than the text inside it; plus what a provider adds unseen to every
# call (Anthropic's tool-use system prompt, about 350 tokens, and each message's framing).
HIDDEN_TOKENS = 1_000
CHARS_PER_TOKEN = 4  # `likely`: close for English and code with the common tokenizers


@dataclass(frozen=True)
class TokenCount:
    """A request's input tokens: `likely` paces the rate limiter and is checked against the context window
    (an estimate, so it refuses only what is clearly too large); `most` cannot be exceeded, so --max-cost
    bounds a call with it."""

    likely: int
    most: int


def count_body(body: Mapping[str, Any]) -> TokenCount:
    """The input tokens of a request whose wire body is `body`."""
    text = json.dumps(body, ensure_ascii=False)
    return TokenCount(likely=-(-len(text) // CHARS_PER_TOKEN), most=len(text.encode()) + HIDDEN_TOKENS)


def count_request(request: ModelRequest) -> TokenCount:
    """For a provider with no wire body of its own (offline, tests): the request's parts as one body."""
    return count_body({"system": request.system, "prefix": request.shared_prefix, "prompt": request.prompt,
                       "tools": request.toolbox or request.schema})


def with_rate_limits(response: ModelResponse, headers: Mapping[str, str]) -> ModelResponse:
    """The response with its rate-limit headers, read, in `extra["rate_limits"]` (when it had any)."""
    limits = read_rate_limits(headers)
    return replace(response, extra={**response.extra, "rate_limits": limits}) if limits else response


class Provider(Protocol):
    """A model behind one method. `name` is what the report shows, e.g. `openai:gpt-4.1-mini`.

    It keeps no account of what it was asked: each response carries its call's usage and a failed call's
    `ProviderError` its `attempts`, so one provider can serve many drafts at once, each counting its own.
    """

    name: str
    model: str

    @property
    def capabilities(self) -> Capabilities: ...

    async def complete(self, request: ModelRequest) -> ModelResponse: ...

    def count_tokens(self, request: ModelRequest) -> TokenCount:
        """How many input tokens `request` takes, from the body that would be sent; no call is made."""
        ...

    async def aclose(self) -> None:
        """Release what the provider holds (HTTP connections) before its event loop ends; a no-op when nothing is."""
        ...
