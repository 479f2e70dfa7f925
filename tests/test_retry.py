"""The retry policy: what is retried, how long it waits, and what the final error says."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Awaitable, Callable

import pytest
from provider_support import OPENAI_KEY, everything_said, fast_policy

from agent.errors import ProviderError, TransportError
from agent.providers.retry import (
    Fault,
    RetryPolicy,
    Service,
    error_detail,
    fault_from_status,
    parse_retry_after,
    with_retries,
)

SERVICE = Service("openai", "https://api.openai.com/v1", "OPENAI_API_KEY", OPENAI_KEY)


def failing_then(faults: list[Fault], result: str = "ok") -> Callable[[], Awaitable[str]]:
    remaining = list(faults)

    async def call() -> str:
        if remaining:
            raise remaining.pop(0)
        return result

    return call


def run(call: Callable[[], Awaitable[str]], policy: RetryPolicy) -> tuple[str, int]:
    done = asyncio.run(with_retries(call, policy=policy, service=SERVICE))
    return done.value, done.attempts


# --- parse_retry_after -------------------------------------------------------------------------


def test_retry_after_ms_wins_over_seconds() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25


def test_retry_after_seconds() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7.0


def test_retry_after_http_date() -> None:
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=lambda: 1_000_000) == 30.0


def test_retry_after_in_the_past_or_garbage() -> None:
    assert parse_retry_after({"retry-after": "-3"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


# --- what is retried ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_transient_statuses_are_retried(status: int) -> None:
    assert Fault("status", status=status).retryable


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_client_errors_are_never_retried(status: int) -> None:
    assert not Fault("status", status=status).retryable


def test_timeouts_and_connection_errors_are_retried() -> None:
    assert Fault("timeout").retryable and Fault("connection").retryable


def test_server_can_veto_a_retry() -> None:
    fault = fault_from_status(429, {"x-should-retry": "false"}, {"message": "quota"})
    assert not fault.retryable


def test_error_detail_reads_both_wire_formats() -> None:
    assert error_detail({"message": "bad  schema\n here"}) == "bad schema here"  # openai SDK body
    assert error_detail({"type": "error", "error": {"message": "overloaded"}}) == "overloaded"
    assert error_detail("not json") == ""


# --- waiting -----------------------------------------------------------------------------------


def test_retry_after_header_is_honoured() -> None:
    policy, sleep = fast_policy()
    faults = [fault_from_status(429, {"retry-after": "3"}, None)]
    assert run(failing_then(faults), policy) == ("ok", 2)
    assert sleep.waits == [3.0]


def test_retry_after_is_capped() -> None:
    sleep_policy, sleep = fast_policy()
    policy = RetryPolicy(max_retry_after=10.0, jitter=0.0, sleep=sleep_policy.sleep)
    run(failing_then([fault_from_status(429, {"retry-after": "3600"}, None)]), policy)
    assert sleep.waits == [10.0]


def test_backoff_doubles_up_to_the_cap() -> None:
    sleep_policy, sleep = fast_policy()
    policy = RetryPolicy(attempts=6, base_delay=1.0, max_delay=5.0, jitter=0.0, sleep=sleep_policy.sleep)
    run(failing_then([Fault("status", status=503)] * 5), policy)
    assert sleep.waits == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_jitter_only_shortens_the_wait() -> None:
    policy = RetryPolicy(base_delay=4.0, jitter=0.25, rng=lambda: 1.0)
    assert policy.wait_after(Fault("timeout"), 1) == 3.0


# --- giving up ---------------------------------------------------------------------------------


def test_exhaustion_raises_transport_error_with_advice() -> None:
    policy, sleep = fast_policy(attempts=4)
    with pytest.raises(TransportError) as caught:
        run(failing_then([Fault("status", status=503)] * 9), policy)
    message = str(caught.value)
    assert message == (
        "openai: HTTP 503 after 4 attempts; the service may be down — try again later or use --model offline"
    )
    assert len(sleep.waits) == 3


def test_rate_limit_exhaustion_says_to_wait() -> None:
    policy, _ = fast_policy(attempts=2)
    with pytest.raises(TransportError, match=r"rate limited \(HTTP 429\) after 2 attempts; wait"):
        run(failing_then([Fault("status", status=429)] * 2), policy)


def test_timeout_and_connection_messages() -> None:
    policy, _ = fast_policy(attempts=2)
    with pytest.raises(TransportError, match="no answer within the call timeout after 2 attempts"):
        run(failing_then([Fault("timeout")] * 2), policy)
    with pytest.raises(TransportError, match=r"could not connect to https://api\.openai\.com/v1"):
        run(failing_then([Fault("connection")] * 2), policy)


def test_auth_error_is_not_retried_and_names_the_variable() -> None:
    policy, sleep = fast_policy()
    attempts: list[int] = []

    async def call() -> str:
        attempts.append(1)
        raise Fault("status", status=401)

    with pytest.raises(ProviderError) as caught:
        asyncio.run(with_retries(call, policy=policy, service=SERVICE))
    assert not isinstance(caught.value, TransportError)
    assert str(caught.value) == "openai: the API key was rejected (HTTP 401); check OPENAI_API_KEY"
    assert attempts == [1] and sleep.waits == []


def test_the_error_says_how_many_attempts_failed_so_they_are_counted_too() -> None:
    policy, _ = fast_policy(attempts=3)
    with pytest.raises(TransportError) as exhausted:
        asyncio.run(with_retries(failing_then([Fault("status", status=500)] * 3), policy=policy, service=SERVICE))
    with pytest.raises(ProviderError) as rejected:
        asyncio.run(with_retries(failing_then([Fault("status", status=401)]), policy=policy, service=SERVICE))
    assert (exhausted.value.attempts, rejected.value.attempts) == (3, 1)


def test_messages_never_contain_the_key() -> None:
    policy, _ = fast_policy()
    fault = fault_from_status(400, {}, {"message": f"Incorrect API key provided: {OPENAI_KEY}"})
    with pytest.raises(ProviderError) as caught:
        run(failing_then([fault]), policy)
    assert OPENAI_KEY not in everything_said(caught.value)
    assert "Incorrect API key provided: ***" in str(caught.value)
    assert OPENAI_KEY not in repr(SERVICE)


def test_other_exceptions_pass_through_untouched() -> None:
    policy, sleep = fast_policy()

    async def call() -> str:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        asyncio.run(with_retries(call, policy=policy, service=SERVICE))
    assert sleep.waits == []
