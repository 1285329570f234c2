"""The circuit breaker, on a fake clock: no sleeping, no network."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from server.downstream.breaker import BreakerSnapshot, BreakerState, CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Boom(Exception):
    pass


class Downstream:
    """Counts the calls that reached it; fails while ``failing``."""

    def __init__(self) -> None:
        self.calls = 0
        self.failing = True

    async def __call__(self) -> str:
        self.calls += 1
        if self.failing:
            raise Boom
        return "ok"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=3, cooldown=30, clock=clock)


def run(coroutine: Awaitable[object]) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


async def attempt(breaker: CircuitBreaker, operation: Callable[[], Awaitable[str]]) -> str:
    try:
        return await breaker.call(operation)
    except Boom:
        return "failed"
    except CircuitOpen:
        return "refused"


def test_opens_after_n_consecutive_failures_then_fails_fast(breaker: CircuitBreaker) -> None:
    downstream = Downstream()

    async def scenario() -> list[str]:
        return [await attempt(breaker, downstream) for _ in range(6)]

    assert run(scenario()) == ["failed"] * 3 + ["refused"] * 3
    assert downstream.calls == 3  # the refused calls never reached the network
    snapshot = breaker.snapshot()
    assert snapshot.state is BreakerState.OPEN
    assert snapshot.retry_after == 30
    assert snapshot.times_opened == 1


def test_a_success_resets_the_count(breaker: CircuitBreaker) -> None:
    downstream = Downstream()

    async def scenario() -> list[str]:
        results = [await attempt(breaker, downstream) for _ in range(2)]
        downstream.failing = False
        results.append(await attempt(breaker, downstream))
        downstream.failing = True
        results += [await attempt(breaker, downstream) for _ in range(2)]
        return results

    assert run(scenario()) == ["failed", "failed", "ok", "failed", "failed"]
    assert breaker.state is BreakerState.CLOSED


def test_failing_results_count_too(breaker: CircuitBreaker) -> None:
    async def unavailable() -> int:
        return 503

    async def scenario() -> list[int | str]:
        results: list[int | str] = []
        for _ in range(4):
            try:
                results.append(await breaker.call(unavailable, is_failure=lambda s: s >= 500))
            except CircuitOpen:
                results.append("refused")
        return results

    assert run(scenario()) == [503, 503, 503, "refused"]


def test_half_open_after_cooldown_lets_one_probe_through(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    release = asyncio.Event()
    calls = 0

    async def slow_success() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "ok"

    async def scenario() -> list[str]:
        for _ in range(3):
            await attempt(breaker, Downstream())
        clock.now += 29.9
        assert breaker.state is BreakerState.OPEN
        clock.now += 0.1
        assert breaker.state is BreakerState.HALF_OPEN
        probe = asyncio.create_task(attempt(breaker, slow_success))
        await asyncio.sleep(0)
        others = [await attempt(breaker, slow_success) for _ in range(3)]
        release.set()
        return [await probe, *others]

    assert run(scenario()) == ["ok", "refused", "refused", "refused"]
    assert calls == 1
    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot().consecutive_failures == 0


def test_failed_probe_reopens_for_a_new_cooldown(breaker: CircuitBreaker, clock: Clock) -> None:
    downstream = Downstream()

    async def scenario() -> list[str]:
        for _ in range(3):
            await attempt(breaker, downstream)
        clock.now += 30
        results = [await attempt(breaker, downstream)]  # the probe fails
        clock.now += 29
        results.append(await attempt(breaker, downstream))  # still within the new cooldown
        clock.now += 1
        downstream.failing = False
        results.append(await attempt(breaker, downstream))  # the next probe succeeds
        return results

    assert run(scenario()) == ["failed", "refused", "ok"]
    assert downstream.calls == 5
    assert breaker.snapshot().times_opened == 2
    assert breaker.state is BreakerState.CLOSED


def test_cancellation_is_neither_success_nor_failure(breaker: CircuitBreaker, clock: Clock) -> None:
    async def hangs() -> str:
        await asyncio.Event().wait()
        return "never"

    async def cancelled_call() -> None:
        task = asyncio.create_task(breaker.call(hangs))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    async def scenario() -> list[str]:
        downstream = Downstream()
        await attempt(breaker, downstream)
        await attempt(breaker, downstream)
        await cancelled_call()  # does not reset the count...
        assert breaker.snapshot().consecutive_failures == 2
        await attempt(breaker, downstream)  # ...so this third failure opens the breaker
        assert breaker.state is BreakerState.OPEN
        clock.now += 30
        await cancelled_call()  # a cancelled probe frees the slot for the next one
        downstream.failing = False
        return [await attempt(breaker, downstream)]

    assert run(scenario()) == ["ok"]
    assert breaker.state is BreakerState.CLOSED


def test_a_slow_success_from_before_the_trip_does_not_close_it(breaker: CircuitBreaker) -> None:
    release = asyncio.Event()

    async def slow_success() -> str:
        await release.wait()
        return "ok"

    async def scenario() -> str:
        slow = asyncio.create_task(attempt(breaker, slow_success))
        await asyncio.sleep(0)
        for _ in range(3):
            await attempt(breaker, Downstream())
        release.set()
        return await slow

    assert run(scenario()) == "ok"
    assert breaker.state is BreakerState.OPEN


def test_reset_closes_it(breaker: CircuitBreaker) -> None:
    async def scenario() -> None:
        for _ in range(3):
            await attempt(breaker, Downstream())

    run(scenario())
    breaker.reset()
    assert breaker.snapshot() == BreakerSnapshot(BreakerState.CLOSED, 0, 0.0, 1)


@pytest.mark.parametrize(("threshold", "cooldown"), [(0, 30), (3, 0)])
def test_refuses_nonsense_settings(threshold: int, cooldown: float) -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=threshold, cooldown=cooldown)


def test_an_exception_that_does_not_count_is_neither_outcome(
    breaker: CircuitBreaker, clock: Clock
) -> None:
    # The gateway says which failures are the destination's; the others never move it.
    downstream = Downstream()

    async def not_counted() -> str:
        try:
            return await breaker.call(downstream, counts=lambda exc: False)
        except Boom:
            return "failed"

    async def scenario() -> list[str]:
        results = [await not_counted() for _ in range(5)]
        results += [await attempt(breaker, downstream) for _ in range(2)]
        results.append(await not_counted())  # does not reset the count either
        results.append(await attempt(breaker, downstream))
        return results

    assert run(scenario()) == ["failed"] * 9
    assert breaker.state is BreakerState.OPEN
    clock.now += 30

    async def probes() -> list[str]:
        first = await not_counted()  # the probe tells nothing: the next call may probe
        downstream.failing = False
        return [first, await attempt(breaker, downstream)]

    assert run(probes()) == ["failed", "ok"]
    assert breaker.state is BreakerState.CLOSED
