"""What a provider's rate-limit headers say: the limits per minute, what remains, and when it resets.

OpenAI sends `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (resets as `6m0s`, `20ms`);
Anthropic sends `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` (resets as RFC 3339
times). Both are read into one `RateLimits`, which the batch rate limiter learns from.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class RateLimits:
    """The account's limits as a response stated them; None where the header was absent."""

    requests_limit: int | None = None
    requests_remaining: int | None = None
    requests_reset_s: float | None = None
    tokens_limit: int | None = None
    tokens_remaining: int | None = None
    tokens_reset_s: float | None = None


def read_rate_limits(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> RateLimits | None:
    """The rate-limit headers of either provider, or None when the response carried none."""
    values: dict[str, float | None] = {}
    for kind in ("requests", "tokens"):
        for part in ("limit", "remaining", "reset"):
            raw = headers.get(f"x-ratelimit-{part}-{kind}") or headers.get(f"anthropic-ratelimit-{kind}-{part}")
            values[f"{kind}_{part}"] = _reset_seconds(raw, now()) if part == "reset" else _count(raw)
    if all(value is None for value in values.values()):
        return None
    return RateLimits(
        requests_limit=_int(values["requests_limit"]),
        requests_remaining=_int(values["requests_remaining"]),
        requests_reset_s=values["requests_reset"],
        tokens_limit=_int(values["tokens_limit"]),
        tokens_remaining=_int(values["tokens_remaining"]),
        tokens_reset_s=values["tokens_reset"],
    )


def _count(raw: str | None) -> float | None:
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _int(value: float | None) -> int | None:
    return int(value) if value is not None else None


def _reset_seconds(raw: str | None, now: float) -> float | None:
    """`1m30.5s` / `20ms` (OpenAI), or an RFC 3339 time (Anthropic), as seconds from now."""
    if not raw:
        return None
    parts = DURATION_PART.findall(raw)
    if parts and "".join(number + unit for number, unit in parts) == raw.strip():
        return sum(float(number) * UNIT_SECONDS[unit] for number, unit in parts)
    try:
        when = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return max(when.timestamp() - now, 0.0) if when.tzinfo else None
