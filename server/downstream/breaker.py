"""A circuit breaker for one downstream destination.

::

    closed ──N consecutive failures──> open ──cooldown elapsed──> half-open
      ^                                  ^                            │
      └────── the probe succeeds ────────┼──── the probe fails ───────┘

While open, calls fail fast with ``CircuitOpen`` and never touch the network. Half-open
lets exactly one probe call through at a time; the others fail fast until it settles.
The caller says which failures are the destination's: only those count.

Why not a library: the maintained ones each broke a rule this one keeps (checked
2026-11): pybreaker counts an ``async def`` call as a success before it runs, so it never
opens; circuitbreaker's async path never fails fast and resets its count when a call is
cancelled; aiobreaker is unmaintained and mixes naive and aware clocks; purgatory counts a
cancelled call as a failure. Here a cancelled call counts as nothing, a slow success
that started before the breaker opened cannot close it, and the clock is injectable.

All state changes happen between awaits on one event loop, so no lock is needed. State is
per process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    """The breaker refused the call without making it."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"circuit open; next probe in {retry_after:.1f} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class BreakerSnapshot:
    """What the API reports about a destination's breaker."""

    state: BreakerState
    consecutive_failures: int
    retry_after: float  # seconds until a probe is allowed (0 unless open)
    times_opened: int


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures, probes after ``cooldown`` s."""

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        if failure_threshold < 1 or cooldown <= 0:
            raise ValueError("failure_threshold must be >= 1 and cooldown > 0")
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._on_change = on_change  # told of each transition (the metrics)
        self._open = False
        self._opened_at = 0.0
        self._failures = 0
        self._times_opened = 0
        self._probing = False
        # Bumped on every transition: the outcome of a call that started under an earlier
        # generation says nothing about the destination as the breaker sees it now.
        self._generation = 0

    @property
    def state(self) -> BreakerState:
        if not self._open:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def snapshot(self) -> BreakerSnapshot:
        state = self.state
        retry_after = (
            max(0.0, self._opened_at + self.cooldown - self._clock())
            if state is BreakerState.OPEN
            else 0.0
        )
        return BreakerSnapshot(state, self._failures, retry_after, self._times_opened)

    def reset(self) -> None:
        """Close the breaker and forget the failures (an operator's decision)."""
        self._close()

    async def call(
        self,
        operation: Callable[[], Awaitable[T]],
        *,
        is_failure: Callable[[T], bool] = lambda _: False,
        counts: Callable[[Exception], bool] = lambda _: True,
    ) -> T:
        """Run ``operation()`` unless the breaker is open.

        An exception from it is a failure unless ``counts`` says it tells nothing about
        the destination (the caller's own deadline ran out, say): such an exception, like
        a cancellation, is neither outcome. A result is a failure when ``is_failure`` says
        so (a 503, say). Either way the result or exception reaches the caller.
        """
        generation, probe = self._admit()
        try:
            result = await operation()
        except asyncio.CancelledError:
            self._abstain(probe)
            raise
        except Exception as exc:
            if counts(exc):
                self._settle(generation, probe, failed=True)
            else:
                self._abstain(probe)
            raise
        self._settle(generation, probe, failed=is_failure(result))
        return result

    def _admit(self) -> tuple[int, bool]:
        state = self.state
        if state is BreakerState.CLOSED:
            return self._generation, False
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            self._changed(BreakerState.HALF_OPEN)
            return self._generation, True
        raise CircuitOpen(max(0.0, self._opened_at + self.cooldown - self._clock()))

    def _abstain(self, probe: bool) -> None:
        if probe:
            self._probing = False  # neither outcome: let another call probe

    def _settle(self, generation: int, probe: bool, *, failed: bool) -> None:
        if probe:
            self._probing = False
            if failed:
                self._trip()
            else:
                self._close()
            return
        if generation != self._generation or self._open:
            return  # started before the last transition: no say in the current state
        if not failed:
            self._failures = 0
            return
        self._failures += 1
        if self._failures >= self.failure_threshold:
            self._trip()

    def _trip(self) -> None:
        self._open = True
        self._opened_at = self._clock()
        self._times_opened += 1
        self._generation += 1
        self._changed(BreakerState.OPEN)

    def _close(self) -> None:
        self._open = False
        self._failures = 0
        self._probing = False
        self._generation += 1
        self._changed(BreakerState.CLOSED)

    def _changed(self, state: BreakerState) -> None:
        if self._on_change is not None:
            self._on_change(state)
