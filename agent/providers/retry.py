"""The one place that decides which failed model calls are retried, how long to wait, and when to give up.

Both SDK clients are built with `max_retries=0` and every attempt goes through `with_retries`:
- one owner per layer: SDK retries nested inside ours would multiply attempts (4 x 3 = 12) and hide them;
- one policy for both providers, tested once, instead of two SDKs' private and diverging rules;
- the batch rate limiter that comes later must see every 429, which SDK-internal retries would swallow.

Retried: 429 (waiting what `retry-after-ms` / `retry-after` asks, capped), 408, 409, 5xx, timeouts and
connection errors. Never retried: any other 4xx (400, 401, 403, 404, 413, 422) — sending the same
request again cannot fix it — nor an answer whose `x-should-retry: false` header vetoes it.

Providers translate their SDK's exceptions into `Fault` (no SDK types cross this module), and every
message this module builds passes through `Service.scrub`, so an API key never reaches an error.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from agent.errors import ProviderError, RejectedError, TransportError
from agent.providers.ratelimits import RateLimits, read_rate_limits

T = TypeVar("T")

FaultKind = Literal["status", "timeout", "connection"]
RETRIED_STATUSES = frozenset({408, 409, 429})
DETAIL_CHARS = 200
# Per attempt. Long enough for a slow local model to write a long section; passing any explicit
# timeout also stops the anthropic SDK refusing a large non-streaming `max_tokens` up front.
DEFAULT_TIMEOUT_S = 600.0
CONNECT_TIMEOUT_S = 10.0  # a server that does not accept the connection in this long is not there


class Fault(Exception):
    """One failed attempt, described without SDK types."""

    def __init__(
        self,
        kind: FaultKind,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        vetoed: bool = False,
        detail: str = "",
        limits: RateLimits | None = None,
    ) -> None:
        super().__init__(f"HTTP {status}" if status else kind)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.vetoed = vetoed
        self.detail = detail
        self.limits = limits

    @property
    def retryable(self) -> bool:
        if self.vetoed:
            return False
        if self.status is None:
            return True  # timeouts and connection errors
        return self.status in RETRIED_STATUSES or self.status >= 500


def fault_from_status(status: int, headers: Mapping[str, str], body: object) -> Fault:
    """Build the `Fault` for an HTTP error answer: its wait hint, retry veto, server message and rate limits."""
    return Fault(
        "status",
        status=status,
        retry_after=parse_retry_after(headers),
        vetoed=headers.get("x-should-retry") == "false",
        detail=error_detail(body),
        limits=read_rate_limits(headers),
    )


def parse_retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asked to wait: `retry-after-ms`, else `retry-after` (seconds or an HTTP date)."""
    try:
        return max(float(headers["retry-after-ms"]) / 1000, 0.0)
    except (KeyError, ValueError):
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now(), 0.0)


def error_detail(body: object) -> str:
    """The server's own error message from either wire format, on one short line."""
    if isinstance(body, dict):
        inner = body.get("error")
        message = (inner if isinstance(inner, dict) else body).get("message")
        if isinstance(message, str):
            return " ".join(message.split())[:DETAIL_CHARS]
    return ""


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a call gets and how long to wait between them.

    `sleep` is injectable so tests record the waits instead of sleeping; `jitter` spreads retries of
    concurrent calls so they do not hit a recovering server in lockstep (set 0 for exact waits).
    `on_fault` hears of every failed attempt, retried or not, and `before_retry` is awaited before
    each retry: the batch rate limiter slows every worker on one worker's 429 and paces the retries
    like any other call. They only listen and wait; what is retried is still decided here.
    """

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    jitter: float = 0.25
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: Callable[[], float] = random.random
    on_fault: Callable[[Fault], None] | None = None
    before_retry: Callable[[], Awaitable[None]] | None = None

    def wait_after(self, fault: BaseException | None, failures: int) -> float:
        """Seconds before the next attempt: the server's hint if it gave one, else exponential backoff."""
        if isinstance(fault, Fault) and fault.retry_after is not None:
            return min(fault.retry_after, self.max_retry_after)
        delay = min(self.base_delay * 2 ** (failures - 1), self.max_delay)
        return delay * (1 - self.jitter * self.rng())


@dataclass(frozen=True)
class Service:
    """Who is being called, for error messages; `secret` is only ever used to scrub them."""

    name: str
    base_url: str
    key_env: str
    secret: str = field(default="", repr=False)

    def scrub(self, message: str) -> str:
        # Short secrets are placeholders for local servers ("ollama"); scrubbing them would mangle words.
        if len(self.secret) >= 8:
            return message.replace(self.secret, "***")
        return message


@dataclass(frozen=True)
class Attempted(Generic[T]):
    """A call's result and how many attempts it took (failed ones included)."""

    value: T
    attempts: int


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    service: Service,
) -> Attempted[T]:
    """Run `call` until it succeeds, a fault is not worth retrying, or the attempts run out.

    Raises `ProviderError` (or its `TransportError` subclass) with a one-line, key-free message and the
    number of `attempts` made, so the draft that made the call counts the ones that failed too.
    """
    attempts = 0

    async def attempt() -> T:
        nonlocal attempts
        if attempts and policy.before_retry is not None:
            await policy.before_retry()
        attempts += 1
        try:
            return await call()
        except Fault as fault:
            if policy.on_fault is not None:
                policy.on_fault(fault)
            raise

    retrying = AsyncRetrying(
        stop=stop_after_attempt(policy.attempts),
        wait=lambda state: policy.wait_after(state.outcome.exception() if state.outcome else None,
                                             state.attempt_number),
        retry=retry_if_exception(lambda exc: isinstance(exc, Fault) and exc.retryable),
        sleep=policy.sleep,
        reraise=True,
    )
    try:
        return Attempted(await retrying(attempt), attempts)
    except Fault as fault:
        raise give_up(fault, attempts, service) from None


# A bad request for one section (its schema, its size) says nothing about the others; 401, 403 and 404
# (key, access, model name) do, so they stop the whole draft.
ONE_REQUEST_REJECTED = frozenset({400, 413, 422})


def give_up(fault: Fault, attempts: int, service: Service) -> ProviderError:
    """The error for a fault that will not be retried again: what happened, then what to do."""
    if fault.retryable:
        error: ProviderError = TransportError(service.scrub(_exhausted(fault, attempts, service)))
    elif fault.status in ONE_REQUEST_REJECTED:
        error = RejectedError(service.scrub(_rejected(fault, service)))
    else:
        error = ProviderError(service.scrub(_rejected(fault, service)))
    error.attempts = attempts
    return error


def _exhausted(fault: Fault, attempts: int, service: Service) -> str:
    tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
    if fault.kind == "timeout":
        return (f"{service.name}: no answer within the call timeout {tries}; try again later, raise --timeout, "
                "or use --model offline")
    if fault.kind == "connection":
        return (
            f"{service.name}: could not connect to {service.base_url} {tries}; "
            "check the network, that the server is running, and the base URL"
        )
    if fault.status == 429:
        return f"{service.name}: rate limited (HTTP 429) {tries}; wait a minute and try again"
    return (
        f"{service.name}: HTTP {fault.status} {tries}{_said(fault)}; "
        "the service may be down — try again later or use --model offline"
    )


def _rejected(fault: Fault, service: Service) -> str:
    status = fault.status
    if status == 401:
        return f"{service.name}: the API key was rejected (HTTP 401); check {service.key_env}"
    if status == 403:
        return f"{service.name}: access denied (HTTP 403){_said(fault)}; check {service.key_env}"
    if status == 404:
        return f"{service.name}: not found (HTTP 404){_said(fault)}; check the model name and base URL"
    if status == 429:
        return (
            f"{service.name}: HTTP 429{_said(fault)}, and the server says not to retry; "
            "check the account's quota and billing"
        )
    return (
        f"{service.name}: the request was rejected (HTTP {status}){_said(fault)}; "
        "fix what the server names, or try another model"
    )


def _said(fault: Fault) -> str:
    return f": {fault.detail}" if fault.detail else ""
