"""The delivery schedule (``services/delivery.decide``): what becomes of a delivery after
an attempt, with a seeded RNG and fixed clocks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from server.downstream.results import Result
from server.services.delivery import Decision, Outcome, Policy, decide

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
POLICY = Policy(max_attempts=5, initial_backoff=4, max_backoff=30, max_age=3600)
FAILED = Outcome(status=503, error_type="http_error", error_detail="HTTP 503.")


def after(
    outcome: Outcome, used: int, *, policy: Policy = POLICY, started: datetime = NOW
) -> Decision:
    return decide(
        outcome,
        policy=policy,
        budget_used=used,
        round_started_at=started,
        now=NOW,
        rng=random.Random(7),
    )


def wait(decision: Decision) -> float:
    assert decision.next_attempt_at is not None
    return (decision.next_attempt_at - NOW).total_seconds()


def test_a_2xx_is_delivered() -> None:
    decision = after(Outcome(status=200), 0)
    assert (decision.state, decision.next_attempt_at, decision.budget_used) == (
        "delivered",
        None,
        1,
    )


@pytest.mark.parametrize(("used", "low", "high"), [(0, 2, 4), (1, 4, 8), (2, 8, 16), (3, 15, 30)])
def test_backoff_doubles_with_equal_jitter_up_to_the_cap(
    used: int, low: float, high: float
) -> None:
    decision = after(FAILED, used)
    assert decision.state == "pending"
    assert low <= wait(decision) <= high
    assert decision.budget_used == used + 1


def test_jitter_spreads_retries() -> None:
    waits = {
        wait(
            decide(
                FAILED,
                policy=POLICY,
                budget_used=1,
                round_started_at=NOW,
                now=NOW,
                rng=random.Random(seed),
            )
        )
        for seed in range(20)
    }
    assert len(waits) == 20
    assert all(4 <= w <= 8 for w in waits)


def test_the_last_attempt_ends_it_dead() -> None:
    assert after(FAILED, 4).state == "dead"


def test_410_ends_it_at_once() -> None:
    assert after(Outcome(status=410, error_type="http_error"), 0).state == "dead"


def test_retry_after_is_a_floor_not_a_ceiling() -> None:
    assert wait(after(Outcome(status=429, error_type="http_error", retry_after=100), 0)) == 100
    assert 2 <= wait(after(Outcome(status=429, error_type="http_error", retry_after=1), 0)) <= 4


def test_a_huge_retry_after_ends_it_past_its_age_without_overflowing() -> None:
    decision = after(Outcome(status=503, error_type="http_error", retry_after=1e30), 0)
    assert decision.state == "dead"


def test_the_age_limit_counts_from_the_round_start() -> None:
    old = NOW - timedelta(seconds=3599)
    assert after(FAILED, 0, started=old).state == "dead"
    assert after(FAILED, 0, started=NOW).state == "pending"


def test_what_is_nobodys_failure_uses_no_attempt() -> None:
    for kind in ("circuit_open", "cut_short", "destination_disabled"):
        decision = after(Outcome(error_type=kind), 4)
        assert (decision.state, decision.budget_used, wait(decision)) == ("pending", 4, 4)


def test_an_interrupted_attempt_counts() -> None:
    assert after(Outcome(error_type="interrupted"), 4).state == "dead"


def test_a_2xx_the_gateway_could_not_report_is_still_a_delivery() -> None:
    for kind in ("invalid_response", "response_too_large"):
        result = Result("a", status=200, latency_ms=3, attempts=1, error_type=kind)
        assert Outcome.of(result).delivered
    failed = Result("a", status=500, latency_ms=3, attempts=1, error_type="http_error")
    assert not Outcome.of(failed).delivered
