"""One limiter for the whole batch: requests and tokens per minute, shared by every worker.

Requests are spaced evenly at the allowed rate instead of sent in bursts, because providers enforce
a minute's limit over shorter periods too. The limiter learns: the `x-ratelimit-*` /
`anthropic-ratelimit-*` headers set the limits it was not given (and pause it when nothing remains),
and a 429 seen by any worker, through `RetryPolicy.on_fault`, pauses every worker for the
`retry-after` and slows the pace, so one worker's 429 is not followed by every other worker's.
Retries wait their turn too (`RetryPolicy.before_retry`). While no limit is known, the first call
goes alone: its answer's headers usually say the limit before a burst can hit it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable

from agent.providers.base import Usage
from agent.ratelimits import RateLimits
from agent.retry import Fault

DEFAULT_PAUSE_S = 1.0  # after a 429 that did not say how long to wait
SLOWDOWN = 0.9  # the pace after a 429, when the limit was known
UNKNOWN_SLOWDOWN = 0.5  # of the pace calls were starting at, when no limit was known
OBSERVED_WINDOW_S = 60.0
PROBE_WAIT_S = 30.0  # the longest the others wait for the first answer when no limit is known


class Pace:
    """Spends a rate evenly: each reservation starts when the previous one's share of the rate is used."""

    def __init__(self, per_minute: float | None) -> None:
        self.per_minute = per_minute
        self.next_at = 0.0

    def reserve(self, amount: float, now: float) -> float:
        """When a call costing `amount` may start."""
        if not self.per_minute:
            return now
        start = max(now, self.next_at)
        self.next_at = start + amount * 60.0 / self.per_minute
        return start

    def adjust(self, amount: float) -> None:
        """The last calls cost `amount` more (or less) than reserved."""
        if self.per_minute:
            self.next_at += amount * 60.0 / self.per_minute


class RateLimiter:
    """`await acquire(tokens)` before every call; `settle` after it; `on_fault` for every failed attempt.

    The pace is the limit (the one configured, or the account's if lower) times `factor`, which a 429
    lowers by a tenth (once per pause: the 429s of calls already in flight do not count again).
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.configured = (rpm, tpm)
        self.rpm, self.tpm, self.factor = rpm, tpm, 1.0
        self.requests, self.tokens = Pace(rpm), Pace(tpm)
        self.clock, self.sleep = clock, sleep
        self.paused_until = 0.0
        self.epoch = 0  # bumped by every pause: reservations taken before it are void
        self.started: deque[float] = deque()
        self.pauses = 0
        self.first_answer = asyncio.Event()

    async def acquire(self, tokens: int) -> None:
        if self.started and self.rpm is None and self.tpm is None and not self.first_answer.is_set():
            with contextlib.suppress(TimeoutError):  # a probe that never answers must not hold the batch
                await asyncio.wait_for(self.first_answer.wait(), PROBE_WAIT_S)
        while True:
            epoch, now = self.epoch, self.clock()
            start = max(self.requests.reserve(1, now), self.tokens.reserve(tokens, now), self.paused_until)
            if start > now:
                await self.sleep(start - now)
            if epoch == self.epoch:  # no pause while we waited: this slot stands
                self._record(self.clock())
                return

    async def before_retry(self) -> None:
        """A retry is one more request: it waits for its turn like any other."""
        await self.acquire(0)

    def finished(self) -> None:
        """A call came back, answered or not."""
        self.first_answer.set()

    def settle(self, reserved_tokens: int, response_usage: Usage) -> None:
        """Correct the token pace from the estimate to what the call really used."""
        used = response_usage.input_tokens + response_usage.output_tokens
        self.tokens.adjust(used - reserved_tokens)

    def learn(self, limits: RateLimits | None) -> None:
        """Take the account's limits where none were configured lower; pause while nothing remains."""
        if limits is None:
            return
        self.rpm = _lower(self.configured[0], limits.requests_limit) or self.rpm
        self.tpm = _lower(self.configured[1], limits.tokens_limit) or self.tpm
        self._apply()
        for remaining, reset, limit in ((limits.requests_remaining, limits.requests_reset_s, self.rpm),
                                        (limits.tokens_remaining, limits.tokens_reset_s, None)):
            if remaining == 0 and reset:  # `reset` is when all of it is back; the next request needs only its share
                self.pause(min(reset, 60.0 / limit) if limit else reset)

    def on_fault(self, fault: Fault) -> None:
        """Every failed attempt of every worker: a 429 pauses all of them and slows the pace."""
        self.finished()
        self.learn(fault.limits)
        if fault.status == 429:
            if self.clock() >= self.paused_until:  # the first 429 of a pause, not its in-flight echoes
                self._slow_down()
            self.pause(fault.retry_after if fault.retry_after is not None else DEFAULT_PAUSE_S)

    def pause(self, seconds: float) -> None:
        """No worker starts a call for `seconds`; afterwards the pace starts again from the end of the pause."""
        until = self.clock() + seconds
        if until <= self.paused_until:
            return
        self.paused_until, self.epoch, self.pauses = until, self.epoch + 1, self.pauses + 1
        self.requests.next_at = self.tokens.next_at = until

    def _slow_down(self) -> None:
        if self.rpm is None:
            observed = self._observed_rpm()
            self.rpm = observed * UNKNOWN_SLOWDOWN if observed else None
        else:
            self.factor *= SLOWDOWN
        self._apply()

    def _apply(self) -> None:
        self.requests.per_minute = max(1.0, self.rpm * self.factor) if self.rpm else None
        self.tokens.per_minute = max(1.0, self.tpm * self.factor) if self.tpm else None

    def _observed_rpm(self) -> float | None:
        """How fast calls were starting, over the last minute at most."""
        if len(self.started) < 2:
            return None
        span = max(self.started[-1] - self.started[0], 1.0)
        return len(self.started) * 60.0 / span

    def _record(self, now: float) -> None:
        self.started.append(now)
        while self.started and self.started[0] < now - OBSERVED_WINDOW_S:
            self.started.popleft()


def _lower(configured: float | None, learned: int | None) -> float | None:
    """The account's limit, or the configured one when that is lower; None when the response said nothing."""
    if learned is None or learned <= 0:
        return None
    return min(configured, learned) if configured else float(learned)
