"""Cost in dollars from reported usage, and the pre-call bound that --max-cost relies on."""

from __future__ import annotations

import pytest

from agent.draft.cost import PRICES, Price, cost_usd, estimate_cost_usd, price_for
from agent.providers.base import Usage

TABLE = {"openai:m": Price(input=2.0, output=8.0, cache_read=0.5, cache_write=2.0)}
ANTHROPIC = {"anthropic:c": Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)}


def test_uncached_input_and_output() -> None:
    usage = Usage(calls=1, input_tokens=1_000_000, output_tokens=500_000)
    assert cost_usd("openai:m", usage, TABLE) == pytest.approx(2.0 + 4.0)


def test_cache_reads_and_writes_are_billed_at_their_own_price() -> None:
    usage = Usage(
        calls=2,
        input_tokens=1_000_000,
        output_tokens=0,
        cache_read_tokens=600_000,
        cache_write_tokens=300_000,
    )
    # 100k uncached at 3.0, 600k read at 0.3, 300k written at 3.75
    assert cost_usd("anthropic:c", usage, ANTHROPIC) == pytest.approx(0.3 + 0.18 + 1.125)


def test_unknown_model_has_no_cost() -> None:
    assert cost_usd("openai:not-a-model", Usage(input_tokens=10)) is None
    assert estimate_cost_usd("openai:not-a-model", 10, 10) is None


def test_local_models_are_free() -> None:
    assert cost_usd("ollama:llama3.1", Usage(input_tokens=10**6, output_tokens=10**6)) == 0.0


def test_dated_snapshots_use_the_alias_price() -> None:
    assert price_for("openai:gpt-4.1-mini-2025-04-14") == PRICES["openai:gpt-4.1-mini"]
    assert price_for("anthropic:claude-sonnet-4-5-20250929") == PRICES["anthropic:claude-sonnet-4-5"]
    assert price_for("openai:gpt-4.1-mega") is None  # a longer name is another model, not a snapshot


def test_a_custom_table_overrides_the_default() -> None:
    assert price_for("openai:gpt-4.1", TABLE) is None
    assert price_for("openai:m", TABLE) == TABLE["openai:m"]


def test_estimate_is_an_upper_bound_on_the_real_cost() -> None:
    bound = estimate_cost_usd("anthropic:c", 1_000_000, 100_000, ANTHROPIC)
    assert bound == pytest.approx(3.75 + 1.5)  # every input token at the dearest rate (a cache write)
    worst = Usage(calls=1, input_tokens=1_000_000, output_tokens=100_000, cache_write_tokens=1_000_000)
    cost = cost_usd("anthropic:c", worst, ANTHROPIC)
    assert cost is not None and bound is not None and cost <= bound


def test_every_listed_price_is_sane() -> None:
    for spec, price in PRICES.items():
        assert spec.partition(":")[0] in ("openai", "anthropic")
        assert price.cache_read <= price.input <= price.output, spec
