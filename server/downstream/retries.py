"""When a call to a destination is tried again, and after how long: the statuses and
errors worth a retry, exponential backoff with jitter or the answer's ``Retry-After``,
and no retry that could not finish within the deadline (tenacity does the rest)."""

from __future__ import annotations

import email.utils
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from server.downstream.targets import Target
from server.downstream.transport import Answer, ClosedBeforeAnswer, ConnectFailed, TransportError

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# No connection, or one the destination closed before answering: most often a pooled
# keep-alive connection it had just timed out, so the request never reached it (and the
# Idempotency-Key makes the retry safe should it have).
RETRY_ERRORS = (ConnectFailed, ClosedBeforeAnswer)


class DeadlineStop(stop_base):
    """Stop when the next wait would end past the deadline: a retry then cannot finish."""

    def __init__(self, deadline: float, now: Callable[[], float]) -> None:
        self.deadline = deadline
        self.now = now

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.now() + retry_state.upcoming_sleep >= self.deadline


class BackoffOrRetryAfter:
    """Exponential backoff with jitter, unless the answer says how long (``Retry-After``)."""

    def __init__(self, target: Target) -> None:
        self.backoff = wait_exponential_jitter(
            multiplier=target.initial_backoff,
            max=target.max_backoff,
            jitter=target.initial_backoff,
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        if outcome is not None and not outcome.failed:
            answer: Answer = outcome.result()
            delay = retry_after_seconds(answer.headers.get("retry-after"))
            if delay is not None:
                return delay
        return float(self.backoff(retry_state))


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit() also takes "²" and "٣"
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


async def retried(
    attempt: Callable[[], Awaitable[Answer]],
    *,
    target: Target,
    deadline: float,
    now: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> Answer:
    """``attempt()``, and again while its outcome is worth a retry and ``target``'s
    attempts and the deadline allow; the last answer, or the last error raised.

    Most calls need no retry, and tenacity's machinery costs about 0.25 ms per call
    (measured): the first attempt goes straight out, and only an outcome worth retrying is
    handed to tenacity, replayed as its first attempt so that it decides the wait (backoff
    or Retry-After) and everything after.
    """
    first: Answer | TransportError
    try:
        first = await attempt()
    except RETRY_ERRORS as exc:
        first = exc
    else:
        if first.status not in RETRY_STATUSES:
            return first
    if target.max_attempts == 1:
        if isinstance(first, Exception):
            raise first
        return first
    replayed = False

    async def replay_then_attempt() -> Answer:
        nonlocal replayed
        if replayed:
            return await attempt()
        replayed = True
        if isinstance(first, Exception):
            raise first
        return first

    retrying = AsyncRetrying(
        stop=stop_after_attempt(target.max_attempts) | DeadlineStop(deadline, now),
        wait=BackoffOrRetryAfter(target),
        retry=(
            retry_if_exception_type(RETRY_ERRORS)
            | retry_if_result(lambda answer: answer.status in RETRY_STATUSES)
        ),
        # Out of attempts or time: the last answer is the result, the last error raised.
        retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
        sleep=sleep,
        reraise=True,
    )
    answer: Answer = await retrying(replay_then_attempt)
    return answer
