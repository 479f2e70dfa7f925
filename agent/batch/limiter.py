"""One limiter for the whole batch: requests and tokens per minute, shared by every worker.

Requests are spaced evenly at the allowed rate instead of sent in bursts, because providers enforce
a minute's limit over shorter periods too. The limiter learns: the `x-ratelimit-*` /
`anthropic-ratelimit-*` headers set the limits it was not given (and pause it when nothing remains),
and a 429 seen by any worker, through `RetryPolicy.on_fault`, pauses every worker for the
`retry-after` and slows the pace, so one worker's 429 is not followed by every other worker's.
Retries wait their turn too (`RetryPolicy.before_retry`). While no limit is known, the first call
goes alone: its answer's headers usually say the limit before a burst can hit it.

When no limit is known and the answers carry no headers, the pace is learned from 429s alone, as TCP
learns a link's capacity (additive increase, multiplicative decrease), because providers count
rejected calls against the account: it starts at ten a second and grows by one request a second with every
answered call (doubling in under a second); the first 429 sets it just under the rate the server was
admitting then; after that it grows by 1% a second and each later 429 cuts it by a tenth.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable

from agent.providers.base import Usage
from agent.providers.ratelimits import RateLimits
from agent.providers.retry import Fault

DEFAULT_PAUSE_S = 1.0  # after a 429 that did not say how long to wait
SLOWDOWN = 0.9  # the pace after a 429, when the limit was known
UNKNOWN_SLOWDOWN = 0.5  # of the pace calls were starting at, when no limit was known
OBSERVED_WINDOW_S = 60.0
PROBE_WAIT_S = 30.0  # the longest the others wait for the first answer when no limit is known
# Learning from 429s alone (requests a minute):
START_RPM = 600.0  # after the first answer: ten a second
SLOW_START_STEP_RPM = 60.0  # added per answered call until the first 429: doubling in under a second
ADDITIVE_STEP_RPM = 0.6  # added per answered call after it: the pace grows by 1% a second
FIRST_DECREASE = 0.95  # of the rate the server was admitting at the first 429
DECREASE = 0.9  # of the pace at a later 429
ADMITTED_WINDOW_S = 2.0  # how far back the admitted rate is measured
ECHO_S = 1.0  # after a slowdown, 429s of calls started at the old pace are echoes, not news


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
        self.started: deque[float] = deque()
        self.pauses = 0
        self.slowed_at = -ECHO_S
        self.waiting: deque[asyncio.Future[None]] = deque()  # calls waiting for their turn, first one first
        self.first_answer = asyncio.Event()
        self.learned_rpm: float | None = None  # the pace learned from 429s alone (when no limit is known)
        self.slow_start = True
        self.answered: deque[float] = deque()  # when calls were answered, over the last ADMITTED_WINDOW_S

    async def acquire(self, tokens: int) -> None:
        if self.started and self.rpm is None and self.tpm is None and not self.first_answer.is_set():
            with contextlib.suppress(TimeoutError):  # a probe that never answers must not hold the batch
                await asyncio.wait_for(self.first_answer.wait(), PROBE_WAIT_S)
        # Calls take their turn in order and a slot is taken only when its time has come, so a pace that
        # changes meanwhile (a learned limit, a pause, a faster learned pace) applies to every call waiting.
        turn = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            if self.waiting[0] is not turn:
                await turn
            while (start := max(self.requests.next_at, self.tokens.next_at, self.paused_until)) > (now := self.clock()):
                await self.sleep(start - now)
            self.requests.reserve(1, now)
            self.tokens.reserve(tokens, now)
            self.started.append(now)  # the last minute's starts, for the pace observed when a 429 comes
            while self.started and self.started[0] < now - OBSERVED_WINDOW_S:
                self.started.popleft()
        finally:
            first = self.waiting[0] is turn
            self.waiting.remove(turn)
            if first and self.waiting and not self.waiting[0].done():
                self.waiting[0].set_result(None)

    async def before_retry(self) -> None:
        """A retry is one more request: it waits for its turn like any other."""
        await self.acquire(0)

    def finished(self) -> None:
        """A call came back, answered or not."""
        if not self.first_answer.is_set() and self.rpm is None:
            self.learned_rpm = START_RPM
            self._apply()
        self.first_answer.set()

    def settle(self, reserved_tokens: int, response_usage: Usage) -> None:
        """A call was answered: correct the token pace to what it used, and let a learned pace grow."""
        used = response_usage.input_tokens + response_usage.output_tokens
        self.tokens.adjust(used - reserved_tokens)
        now = self.clock()
        self.answered.append(now)
        while self.answered and self.answered[0] < now - ADMITTED_WINDOW_S:
            self.answered.popleft()
        if self.learned_rpm is not None:
            self.learned_rpm += SLOW_START_STEP_RPM if self.slow_start else ADDITIVE_STEP_RPM
            self._apply()

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
            now = self.clock()
            if now >= self.paused_until and now >= self.slowed_at + ECHO_S:  # news, not an in-flight echo
                self.slowed_at = now
                self._slow_down()
            self.pause(fault.retry_after if fault.retry_after is not None else DEFAULT_PAUSE_S)

    def pause(self, seconds: float) -> None:
        """No worker starts a call for `seconds`; afterwards the pace starts again from the end of the pause."""
        until = self.clock() + seconds
        if until <= self.paused_until:
            return
        self.paused_until, self.pauses = until, self.pauses + 1
        self.requests.next_at = self.tokens.next_at = until

    def _slow_down(self) -> None:
        if self.rpm is not None:
            self.factor *= SLOWDOWN
        elif self.slow_start:  # the first 429: the server admits about what it answered lately
            self.slow_start = False
            admitted = len(self.answered) * 60.0 / ADMITTED_WINDOW_S
            # How fast calls were starting, over the last minute at most.
            observed = (len(self.started) * 60.0 / max(self.started[-1] - self.started[0], 1.0)
                        if len(self.started) >= 2 else None)
            pace = self.learned_rpm or observed or admitted
            self.learned_rpm = max(1.0, min(pace, admitted) * FIRST_DECREASE if admitted else pace * UNKNOWN_SLOWDOWN)
        elif self.learned_rpm is not None:
            self.learned_rpm *= DECREASE
        self._apply()

    def _apply(self) -> None:
        rpm = self.rpm * self.factor if self.rpm else self.learned_rpm
        self.requests.per_minute = max(1.0, rpm) if rpm else None
        self.tokens.per_minute = max(1.0, self.tpm * self.factor) if self.tpm else None


def _lower(configured: float | None, learned: int | None) -> float | None:
    """The account's limit, or the configured one when that is lower; None when the response said nothing."""
    if learned is None or learned <= 0:
        return None
    return min(configured, learned) if configured else float(learned)
