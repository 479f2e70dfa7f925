"""What a draft cost in US dollars, from the token counts providers report, and a bound before a call.

The price table is a convenience, not a source of truth: prices change, so edit `PRICES` or pass
your own table as `prices=` (the spec, e.g. `openai:gpt-4.1-mini`, maps to a `Price`).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from agent.context.budget import estimate_tokens
from agent.errors import BudgetError, InputError
from agent.providers import wire_body_for
from agent.providers.base import ModelRequest, Provider, Usage

PER_MILLION = 1_000_000
# Snapshot suffixes that keep a model's price: gpt-4.1-mini-2025-04-14, claude-sonnet-4-5-20250929.
SNAPSHOT_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")
# Models that run on the user's own machine cost nothing per token.
LOCAL_PROVIDERS = frozenset({"ollama", "offline"})
# The most input tokens a body can be, per byte of its JSON: every tokenizer in use is a byte-level BPE,
# whose tokens each cover at least one byte of text, and the JSON (escapes, keys, quotes) is longer than
# the text inside it. Plus what a provider adds unseen to every call: Anthropic's tool-use system prompt
# (about 350 tokens) and each message's framing.
TOKENS_PER_BYTE = 1
HIDDEN_TOKENS = 1_000


@dataclass(frozen=True)
class Price:
    """USD per million tokens. `cache_write` is what storing a token in the prompt cache costs."""

    input: float
    output: float
    cache_read: float
    cache_write: float


# EDITABLE: list prices in USD per million tokens, from the providers' public pricing pages
# (checked 2026; verify before relying on them). OpenAI does not charge extra to write its cache,
# so its cache_write equals input. Anthropic's is the 5-minute cache write rate.
PRICES: dict[str, Price] = {
    "openai:gpt-5": Price(input=1.25, output=10.00, cache_read=0.125, cache_write=1.25),
    "openai:gpt-5-mini": Price(input=0.25, output=2.00, cache_read=0.025, cache_write=0.25),
    "openai:gpt-5-nano": Price(input=0.05, output=0.40, cache_read=0.005, cache_write=0.05),
    "openai:gpt-4.1": Price(input=2.00, output=8.00, cache_read=0.50, cache_write=2.00),
    "openai:gpt-4.1-mini": Price(input=0.40, output=1.60, cache_read=0.10, cache_write=0.40),
    "openai:gpt-4.1-nano": Price(input=0.10, output=0.40, cache_read=0.025, cache_write=0.10),
    "openai:gpt-4o-mini": Price(input=0.15, output=0.60, cache_read=0.075, cache_write=0.15),
    "anthropic:claude-opus-4-5": Price(input=5.00, output=25.00, cache_read=0.50, cache_write=6.25),
    "anthropic:claude-opus-4-6": Price(input=5.00, output=25.00, cache_read=0.50, cache_write=6.25),
    "anthropic:claude-sonnet-4-5": Price(input=3.00, output=15.00, cache_read=0.30, cache_write=3.75),
    "anthropic:claude-sonnet-4-6": Price(input=3.00, output=15.00, cache_read=0.30, cache_write=3.75),
    "anthropic:claude-haiku-4-5": Price(input=1.00, output=5.00, cache_read=0.10, cache_write=1.25),
}

FREE = Price(input=0.0, output=0.0, cache_read=0.0, cache_write=0.0)


def price_for(model_spec: str, prices: Mapping[str, Price] | None = None) -> Price | None:
    """The price of `model_spec`, a dated snapshot priced as its alias; None when it is not listed."""
    table = PRICES if prices is None else prices
    if model_spec.partition(":")[0] in LOCAL_PROVIDERS:
        return table.get(model_spec, FREE)
    return table.get(model_spec) or table.get(SNAPSHOT_SUFFIX.sub("", model_spec))


def cost_usd(model_spec: str, usage: Usage, prices: Mapping[str, Price] | None = None) -> float | None:
    """What `usage` cost on `model_spec`, or None when the model's price is unknown.

    `usage.input_tokens` counts every prompt token; the ones the cache served or stored are billed
    at the cache prices and only the rest at the input price.
    """
    price = price_for(model_spec, prices)
    if price is None:
        return None
    uncached = max(usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens, 0)
    dollars = (
        uncached * price.input
        + usage.cache_read_tokens * price.cache_read
        + usage.cache_write_tokens * price.cache_write
        + usage.output_tokens * price.output
    )
    return dollars / PER_MILLION


def estimate_cost_usd(
    model_spec: str, input_tokens: int, max_output_tokens: int, prices: Mapping[str, Price] | None = None
) -> float | None:
    """The most one call can cost: every input token at the dearest input rate, every output token used.

    `--max-cost` checks this before a call, so a draft stops before the call that would pass the cap.
    None when the model's price is unknown.
    """
    price = price_for(model_spec, prices)
    if price is None:
        return None
    input_rate = max(price.input, price.cache_read, price.cache_write)
    return (input_tokens * input_rate + max_output_tokens * price.output) / PER_MILLION


def request_tokens(request: ModelRequest) -> int:
    """The input tokens a request will likely take (for pacing; `max_input_tokens` is the bound)."""
    return estimate_tokens(request.system + request.shared_prefix + request.prompt + json.dumps(request.toolbox or request.schema))


def max_input_tokens(provider_name: str, request: ModelRequest) -> int:
    """The most input tokens `request` can take: every byte of the exact body sent, tools and schemas included."""
    body = json.dumps(wire_body_for(provider_name, request))  # ASCII-escaped: at least as long as the UTF-8
    return len(body.encode()) * TOKENS_PER_BYTE + HIDDEN_TOKENS


class CostCap:
    """Stops before a call that could take spending past `cap_usd` (--max-cost), counting calls in flight.

    Spending is what `provider.usage_total` cost plus `spent_before` (what earlier runs of a batch spent).
    A call that fits only once calls in flight have come back waits for them (they rarely cost their
    worst case); a call that cannot fit even then is refused.
    """

    def __init__(self, cap_usd: float | None, prices: Mapping[str, Price] | None = None,
                 spent_before: float = 0.0, origin: str = "--max-cost") -> None:
        self.cap_usd, self.prices, self.spent_before = cap_usd, prices, spent_before
        self.origin = origin  # where the cap was set, for messages: the flag, PLAN_MAX_COST or a config file
        self.reserved_usd = 0.0
        self.in_flight = 0
        self.released: asyncio.Event | None = None  # set when a call in flight comes back
        self.reached = False

    async def reserve(self, provider: Provider, request: ModelRequest) -> float:
        """The most `request` can cost, set aside; raises BudgetError when it could pass the cap."""
        if self.cap_usd is None or price_for(provider.name, self.prices) == FREE:
            return 0.0
        tokens = max_input_tokens(provider.name, request)
        estimate = estimate_cost_usd(provider.name, tokens, request.max_output_tokens, self.prices)
        if estimate is None:  # a cap we cannot check is worse than no cap: say so before the first call
            raise InputError(f"{self.origin} needs a price for {provider.name}: add it under `prices` in "
                             f"[tool.plan] or .plan.toml (USD per million tokens), or drop {self.origin}")
        while (spent := self.spent(provider)) + self.reserved_usd + estimate > self.cap_usd:
            if not self.in_flight:
                self.reached = True
                raise BudgetError(f"not drafted: the next call could cost ${estimate:.4f} and pass {self.origin} "
                                  f"${self.cap_usd:.2f} (spent ${spent:.4f}); raise {self.origin} to finish")
            self.released = self.released or asyncio.Event()
            await self.released.wait()
        self.reserved_usd += estimate
        self.in_flight += 1
        return estimate

    def release(self, estimate: float) -> None:
        """The call reserved as `estimate` came back; its real cost is in the provider's usage now."""
        if not estimate:
            return
        self.reserved_usd -= estimate
        self.in_flight -= 1
        if self.released is not None:
            self.released.set()
            self.released = None

    def spent(self, provider: Provider) -> float:
        return self.spent_before + (cost_usd(provider.name, provider.usage_total, self.prices) or 0.0)
