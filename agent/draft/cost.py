"""What a draft's calls cost, who pays for them, and the bounds checked before each one is sent.

An `Account` is whose spending a call is (a draft's, or one batch item's): it adds up the usage of its own
calls, checks each request against the model's context window, and holds it to the --max-cost `CostCap`.
The price table is a convenience, not a source of truth: prices change, so edit `PRICES` or pass
your own table as `prices=` (the spec, e.g. `openai:gpt-4.1-mini`, maps to a `Price`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from agent.errors import BudgetError, ContextWindowError, InputError, ProviderError
from agent.providers.base import ModelRequest, ModelResponse, Provider, TokenCount, Usage
from agent.providers.ratelimits import RateLimits

PER_MILLION = 1_000_000
# Snapshot suffixes that keep a model's price: gpt-4.1-mini-2025-04-14, claude-sonnet-4-5-20250929.
SNAPSHOT_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")
# Models that run on the user's own machine cost nothing per token.
LOCAL_PROVIDERS = frozenset({"ollama", "offline"})


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


class CostCap:
    """Stops before a call that could take spending past `cap_usd` (--max-cost), counting calls in flight.

    Spending is `spent_before` (what earlier runs of a batch spent) plus what every call that came back cost.
    A call that fits only once calls in flight have come back waits for them (they rarely cost their
    worst case); a call that cannot fit even then is refused.
    """

    def __init__(self, cap_usd: float | None, prices: Mapping[str, Price] | None = None,
                 spent_before: float = 0.0, origin: str = "--max-cost") -> None:
        self.cap_usd, self.prices, self.spent_usd = cap_usd, prices, spent_before
        self.origin = origin  # where the cap was set, for messages: the flag, PLAN_MAX_COST or a config file
        self.reserved_usd = 0.0
        self.in_flight = 0
        self.released: asyncio.Event | None = None  # set when a call in flight comes back
        self.reached = False

    async def reserve(self, provider: Provider, request: ModelRequest, tokens: TokenCount) -> float:
        """The most `request` can cost, set aside; raises BudgetError when it could pass the cap."""
        if self.cap_usd is None or price_for(provider.name, self.prices) == FREE:
            return 0.0
        most = tokens.most
        if window := provider.capabilities.context_window:  # a larger prompt is refused, and not billed
            most = min(most, window - request.max_output_tokens)
        estimate = estimate_cost_usd(provider.name, most, request.max_output_tokens, self.prices)
        if estimate is None:  # a cap we cannot check is worse than no cap: say so before the first call
            raise InputError(f"{self.origin} needs a price for {provider.name}: add it under `prices` in "
                             f"[tool.plan] or .plan.toml (USD per million tokens), or drop {self.origin}")
        while self.spent_usd + self.reserved_usd + estimate > self.cap_usd:
            if not self.in_flight:
                self.reached = True
                raise BudgetError(f"not drafted: the next call could cost ${estimate:.4f} and pass {self.origin} "
                                  f"${self.cap_usd:.2f} (spent ${self.spent_usd:.4f}); raise {self.origin} to finish")
            self.released = self.released or asyncio.Event()
            await self.released.wait()
        self.reserved_usd += estimate
        self.in_flight += 1
        return estimate

    def release(self, estimate: float, spent_usd: float) -> None:
        """The call reserved as `estimate` came back, having cost `spent_usd`."""
        self.spent_usd += spent_usd
        if not estimate:
            return
        self.reserved_usd -= estimate
        self.in_flight -= 1
        if self.released is not None:
            self.released.set()
            self.released = None


class Pacer(Protocol):
    """The batch's rate limiter (`agent.batch.limiter.RateLimiter`), as an account sees it."""

    async def acquire(self, tokens: int) -> None: ...
    def finished(self) -> None: ...
    def settle(self, reserved_tokens: int, response_usage: Usage) -> None: ...
    def learn(self, limits: RateLimits | None) -> None: ...


class Account:
    """Whose spending a call is: a draft's, or one batch item's, sharing the batch's cap and rate limiter.

    `usage` adds up its own calls' responses, and the attempts of those that failed, so a provider keeps no
    total and can serve many drafts at once. `on_spent` hears of each answer's usage as it is spent (a batch
    charges its manifest, so an interrupted run cannot forget it).
    """

    def __init__(self, cap: CostCap | None = None, pacer: Pacer | None = None,
                 on_spent: Callable[[Usage], None] = lambda usage: None) -> None:
        self.cap, self.pacer, self.on_spent = cap or CostCap(None), pacer, on_spent
        self.usage = Usage()

    async def complete(self, provider: Provider, request: ModelRequest) -> ModelResponse:
        """`provider.complete(request)`, once the request is known to fit the model's context window and
        the cap, and the rate limiter gives it its turn."""
        tokens = provider.count_tokens(request)
        window = provider.capabilities.context_window
        if window and tokens.likely + request.max_output_tokens > window:  # the provider would refuse it anyway
            excess = tokens.likely + request.max_output_tokens - window
            raise ContextWindowError(f"{provider.name} takes at most {window:,} tokens of prompt and answer, and this "
                                     f"request is about {tokens.likely:,} plus {request.max_output_tokens:,} for the "
                                     "answer", excess)
        estimate = await self.cap.reserve(provider, request, tokens)
        pacer = self.pacer if provider.capabilities.rate_limited else None
        response: ModelResponse | None = None
        try:
            if pacer is not None:
                await pacer.acquire(tokens.likely)
            response = await provider.complete(request)
        except ProviderError as error:
            self.usage += Usage(calls=error.attempts)
            raise
        finally:
            spent = cost_usd(provider.name, response.usage, self.cap.prices) if response else None
            self.cap.release(estimate, spent or 0.0)
            if pacer is not None:
                pacer.finished()
        self.usage += response.usage
        self.on_spent(response.usage)
        if pacer is not None:
            pacer.settle(tokens.likely, response.usage)
            pacer.learn(response.extra.get("rate_limits"))
        return response
