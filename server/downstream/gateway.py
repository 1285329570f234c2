"""The fan-out: one payload POSTed to several destinations at once, every result reported.

One pooled transport (``transport.AiohttpTransport``), opened and closed by the app's
lifespan, carries every downstream call. Each destination gets its own deadline (the
whole budget: every attempt and every backoff), its retry policy (tenacity) and its
circuit breaker (``breaker.py``); the destinations run concurrently, so a dispatch takes
as long as its slowest destination, and one that hangs cannot hold the others' results
back. Nothing a destination does (refuse, hang, drip, answer garbage or gigabytes)
escapes as an exception: each ends as one ``Result``.

Destination by destination::

    URL not dialable, a header not encodable  ──> not_sent (nothing leaves the process)
    host off the allow-list                   ──> host_not_allowed
    then attempt by attempt:
      deadline passed?  ──> timeout, or cut_short if it was the caller's shorter one
      wait for a free slot (the pool, and this client's share of the destination)
      breaker open?     ──> circuit_open (no request made)
      POST, read the body up to the cap
        connect error, 429, 502, 503, 504  ──> retry after backoff or Retry-After,
                                               if attempts and the deadline allow
        2xx with an empty or JSON body     ──> succeeded
        anything else                      ──> failed, with the error type

Tenants share destinations, so nothing one caller controls may move a destination's
breaker: only the destination's own failures within its own deadline count (no
connection, its timeout, a 5xx). A caller's shorter ``timeout_seconds``, a wait for a
free connection on this side, or anything that fails before a byte leaves the process
is reported (``cut_short``, ``not_sent``) and counts as nothing. One client can hold at
most ``max_concurrent_per_client`` calls to one destination and
``max_connections_per_client`` connections in all at once, so it cannot take the pool,
or a slow destination's capacity, from the others.

What a caller may read of a failure depends on who it is: ``Result.as_dict(disclose=…)``
gives admins the whole story (library text, addresses, a failed answer's body) and every
other client a fixed sentence per error type; the log always has the whole story, with
the request id.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from server.downstream.breaker import BreakerSnapshot, BreakerState, CircuitBreaker, CircuitOpen
from server.downstream.hosts import HostAllowList, UndialableURL, dialable_url
from server.downstream.transport import (
    AiohttpTransport,
    Answer,
    Broken,
    ClosedBeforeAnswer,
    ConnectFailed,
    NotSendable,
    Transport,
    TransportError,
    check_headers,
)
from server.telemetry import metrics

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# No connection, or one the destination closed before answering: most often a pooled
# keep-alive connection it had just timed out, so the request never reached it (and the
# Idempotency-Key makes the retry safe should it have).
RETRY_ERRORS = (ConnectFailed, ClosedBeforeAnswer)
# What failed only counts against a destination when the destination itself failed: it
# refused or dropped the connection, broke the exchange, or ran out its own deadline.
DESTINATION_FAILURES = (TimeoutError, ConnectFailed, ClosedBeforeAnswer, Broken)
# Failures of this side before a byte reached the destination (never counted).
LOCAL_FAILURES = (UnicodeError, NotSendable)
USER_AGENT = "contract-api-gateway/0.1"

# What a client other than an admin reads for each error type: stable, and free of
# anything about the destination (host, port, resolver, TLS or library text).
PUBLIC_DETAILS = {
    "connect_error": "Could not connect to the destination.",
    "timeout": "The destination gave no complete answer within its deadline.",
    "cut_short": (
        "Stopped on this side before the destination answered (your timeout_seconds ran "
        "out first, or no connection was free in time); the cut is not counted against it."
    ),
    "http_error": "The destination answered with an error status.",
    "redirect": "The destination answered with a redirect, which is not followed.",
    "invalid_response": (
        "The destination answered 2xx with a body the gateway cannot report (not JSON, "
        "or nested too deep)."
    ),
    "response_too_large": "The destination's answer was larger than the gateway accepts.",
    "circuit_open": "Not tried: the destination has been failing and its breaker is open.",
    "host_not_allowed": "The destination's host is not on the allow-list.",
    "transport_error": "The connection to the destination broke, or it spoke bad HTTP.",
    "not_sent": "Nothing was sent: the request could not be built.",
}


class CutShort(Exception):
    """This side stopped the call before the destination could be judged."""


class NotSent(Exception):
    """The request could not be built or sent: nothing reached the destination."""


@dataclass(frozen=True)
class Target:
    """What the gateway needs to know about one destination."""

    name: str
    url: str
    timeout: float
    max_attempts: int = 3
    initial_backoff: float = 0.1
    max_backoff: float = 2.0
    failure_threshold: int = 5
    cooldown: float = 30.0

    @property
    def breaker_settings(self) -> tuple[str, int, float]:
        # A new URL is another server as far as its health goes: the breaker starts afresh.
        return (self.url, self.failure_threshold, self.cooldown)


@dataclass
class Result:
    """How one destination fared."""

    destination: str
    status: int | None
    latency_ms: float
    attempts: int
    body: Any = None
    error_type: str | None = None  # None: it succeeded
    error_detail: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.error_type is None

    @property
    def outcome(self) -> str:
        return "succeeded" if self.succeeded else "failed"

    def as_dict(self, *, disclose: bool) -> dict[str, Any]:
        """The result as the API reports it; ``disclose`` (admins) keeps a failure's
        detail and body, otherwise they become a fixed sentence and null."""
        reported = {
            "destination": self.destination,
            "outcome": self.outcome,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 1),
            "attempts": self.attempts,
            "body": self.body if disclose or self.error_type is None else None,
        }
        if self.error_type is not None:
            detail = self.error_detail if disclose else PUBLIC_DETAILS.get(self.error_type)
            reported["error"] = {"type": self.error_type, "detail": detail or ""}
        return reported


_Answer = Answer


@dataclass(frozen=True)
class _Outgoing:
    """The request every attempt sends, checked before any."""

    url: httpx.URL  # as the allow-list reads it
    wire_url: str  # as it is dialled
    headers: list[tuple[str, str]]
    content: bytes


@dataclass
class _Attempts:
    count: int = 0
    last: _Answer | None = None


class _DeadlineStop(stop_base):
    """Stop when the next wait would end past the deadline: a retry then cannot finish."""

    def __init__(self, deadline: float, now: Callable[[], float]) -> None:
        self.deadline = deadline
        self.now = now

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.now() + retry_state.upcoming_sleep >= self.deadline


class _BackoffOrRetryAfter:
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
            answer: _Answer = outcome.result()
            delay = retry_after_seconds(answer.headers.get("retry-after"))
            if delay is not None:
                return delay
        return float(self.backoff(retry_state))


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Slots:
    """At most ``limit`` holders per key at once; the others wait their turn in order.

    Keys come and go (a client's share of one destination): a key's semaphore lives only
    while someone holds it or waits for it.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[Any, tuple[asyncio.Semaphore, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def slot(self, key: Any, deadline: float, why: Callable[[], str]) -> AsyncIterator[bool]:
        """Hold one of ``key``'s slots; yields whether it had to wait for it."""
        entry = self._held.get(key)
        if entry is None:
            entry = self._held[key] = (asyncio.Semaphore(self.limit), [0])
        semaphore, users = entry
        users[0] += 1
        try:
            waited = await _acquire(semaphore, deadline, why)
            try:
                yield waited
            finally:
                semaphore.release()
        finally:
            users[0] -= 1
            if not users[0]:
                del self._held[key]


async def _acquire(semaphore: asyncio.Semaphore, deadline: float, why: Callable[[], str]) -> bool:
    """Take a slot, waiting no later than ``deadline`` (``CutShort`` saying ``why()``
    then: the sentence is written only when a wait runs out); whether it had to wait."""
    if not semaphore.locked():
        await semaphore.acquire()  # free: returns without suspending
        return False
    try:
        async with asyncio.timeout_at(deadline):
            await semaphore.acquire()
    except TimeoutError:
        raise CutShort(why()) from None
    return True


class Gateway:
    """The shared downstream client, the breakers, and ``dispatch``."""

    def __init__(
        self,
        *,
        max_response_bytes: int = 65536,
        max_connections: int = 100,
        max_concurrent_per_client: int = 32,
        max_connections_per_client: int = 64,
        allowed_hosts: HostAllowList | None = None,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_response_bytes = max_response_bytes
        self.max_connections = max_connections
        self.allowed_hosts = allowed_hosts or HostAllowList([])
        self._transport = transport or AiohttpTransport(max_connections=max_connections)
        self._clock = clock
        self._sleep = sleep
        self._started = False
        self._breakers: dict[str, tuple[tuple[str, int, float], CircuitBreaker]] = {}
        # Waiting for a connection happens here, where a wait that outlasts the deadline
        # is known to be this side's doing, not in the transport's pool.
        self._pool = asyncio.Semaphore(max_connections)
        self._shares = _Slots(max_concurrent_per_client)  # a client's share of a destination
        self._clients = _Slots(max_connections_per_client)  # a client's share of the pool

    async def start(self) -> None:
        """Open the pooled transport (the app's lifespan calls this once)."""
        # Anew, in case this gateway served another event loop before (a semaphore binds
        # to the loop of its first wait).
        self._pool = asyncio.Semaphore(self.max_connections)
        await self._transport.start()
        self._started = True

    async def close(self) -> None:
        self._started = False
        await self._transport.close()

    def breaker(self, target: Target) -> CircuitBreaker:
        """The destination's breaker; a new, closed one if its settings changed."""
        current = self._breakers.get(target.name)
        if current is not None and current[0] == target.breaker_settings:
            return current[1]
        breaker = CircuitBreaker(
            failure_threshold=target.failure_threshold,
            cooldown=target.cooldown,
            clock=self._clock,
            on_change=functools.partial(metrics.breaker_changed, target.name),
        )
        self._breakers[target.name] = (target.breaker_settings, breaker)
        metrics.breaker_changed(target.name, BreakerState.CLOSED)
        return breaker

    def circuit(self, target: Target) -> BreakerSnapshot:
        return self.breaker(target).snapshot()

    def forget(self, name: str) -> None:
        """Drop a deleted destination's breaker."""
        self._breakers.pop(name, None)
        metrics.destination_removed(name)

    async def dispatch(
        self,
        targets: Sequence[Target],
        content: bytes,
        *,
        client_id: str,
        headers: Mapping[str, str],
        max_timeout: float | None = None,
    ) -> list[Result]:
        """POST ``content`` (JSON) to every target at once for ``client_id``; one result
        per target, in order."""
        sent = {"content-type": "application/json", "accept": "application/json", **headers}
        return list(
            await asyncio.gather(
                *(
                    self.send(
                        target, content, client_id=client_id, headers=sent, max_timeout=max_timeout
                    )
                    for target in targets
                )
            )
        )

    async def send(
        self,
        target: Target,
        content: bytes,
        *,
        client_id: str,
        headers: Mapping[str, str],
        max_timeout: float | None = None,
    ) -> Result:
        """One destination, start to finish; never raises (but for cancellation)."""
        started = time.perf_counter()
        cut_by_caller = max_timeout is not None and max_timeout < target.timeout
        budget = max_timeout if max_timeout is not None and cut_by_caller else target.timeout
        attempts = _Attempts()
        body: Any = None
        error: tuple[str, str] | None
        try:
            request = self._request(target, content, headers)
            if not self.allowed_hosts.allows(request.url):
                error = ("host_not_allowed", "The destination's host is not on the allow-list.")
            else:
                answer = await self._with_retries(
                    target, request, client_id, budget, cut_by_caller, attempts
                )
                body, error = self._judge(answer)
        except CutShort as exc:
            error = ("cut_short", str(exc))
        except NotSent as exc:
            error = ("not_sent", str(exc))
        except CircuitOpen as exc:
            error = ("circuit_open", f"Not tried further: {exc}.")
        except TimeoutError:
            error = ("timeout", f"No complete answer within {budget:g} s.")
        except ConnectFailed as exc:
            error = ("connect_error", _first_line(exc, "Could not connect."))
        except LOCAL_FAILURES as exc:
            error = ("not_sent", f"Nothing was sent: {_first_line(exc, type(exc).__name__)}")
        except TransportError as exc:
            error = ("transport_error", _first_line(exc, type(exc).__name__))
        except Exception as exc:  # never the whole dispatch's 500: the others' results stand
            logger.exception("destination %s: unexpected %s", target.name, type(exc).__name__)
            error = ("transport_error", f"Unexpected {type(exc).__name__}.")
        last = attempts.last
        if error:
            logger.log(
                logging.WARNING if error[0] == "not_sent" else logging.INFO,
                "destination %s failed: %s (%s) after %d attempt(s), status %s",
                target.name,
                error[0],
                error[1],
                attempts.count,
                last.status if last else None,
            )
        seconds = time.perf_counter() - started
        metrics.observe_dispatch(target.name, error[0] if error else "succeeded", seconds)
        return Result(
            destination=target.name,
            status=last.status if last else None,
            latency_ms=seconds * 1000,
            attempts=attempts.count,
            body=body,
            error_type=error[0] if error else None,
            error_detail=error[1] if error else None,
        )

    def _request(self, target: Target, content: bytes, headers: Mapping[str, str]) -> _Outgoing:
        """The request every attempt sends, built (URL and headers encoded) before any."""
        if not self._started:
            raise RuntimeError("the gateway is not started (the app's lifespan starts it)")
        try:
            url, wire_url = _parsed(target.url)
        except UndialableURL as exc:
            # Stored before URLs were checked as they are now: store it again.
            raise NotSent(f"The stored URL cannot be dialled: it {exc}.") from None
        try:
            fields = check_headers({"user-agent": USER_AGENT, **headers})
        except NotSendable as exc:
            raise NotSent(f"Nothing was sent: {exc}.") from None
        return _Outgoing(url, wire_url, fields, content)

    def _judge(self, answer: _Answer) -> tuple[Any, tuple[str, str] | None]:
        """The body to report, and the error if the answer is not a success."""
        status = answer.status
        if answer.too_large:
            cap = self.max_response_bytes
            return None, ("response_too_large", f"HTTP {status} with a body over {cap} bytes.")
        body, unfit = _json_or_none(answer.content)
        if 200 <= status < 300:
            if unfit:
                return None, ("invalid_response", f"HTTP {status} with {unfit}.")
            return body, None
        if 300 <= status < 400:
            return None, ("redirect", f"HTTP {status}; redirects are not followed.")
        return body, ("http_error", f"HTTP {status}.")

    async def _with_retries(
        self,
        target: Target,
        request: _Outgoing,
        client_id: str,
        budget: float,
        cut_by_caller: bool,
        attempts: _Attempts,
    ) -> _Answer:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        breaker = self.breaker(target)
        # Every timeout under a deadline that is the caller's, not the destination's, is
        # this side cutting the call short.
        ran_out = (
            f"The request's timeout_seconds ({budget:g} s) ran out before the "
            f"destination's own deadline ({target.timeout:g} s)."
            if cut_by_caller
            else None
        )

        waited = False  # on this side, in any attempt: the destination lost that time

        async def attempt() -> _Answer:
            nonlocal waited
            if loop.time() >= deadline:
                raise CutShort(ran_out) if ran_out else TimeoutError
            async with (
                self._clients.slot(
                    client_id,
                    deadline,
                    lambda: (
                        f"Waited for this client's other calls ({self._clients.limit} "
                        f"connections at most at once) until the deadline ({budget:g} s)."
                    ),
                ) as waited_for_client,
                self._shares.slot(
                    (client_id, target.name),
                    deadline,
                    lambda: (
                        f"Waited for this client's other calls to {target.name} "
                        f"({self._shares.limit} at most at once) until the deadline ({budget:g} s)."
                    ),
                ) as waited_for_share,
            ):
                waited_for_pool = await _acquire(
                    self._pool,
                    deadline,
                    lambda: (
                        f"No free connection in the gateway's pool of "
                        f"{self.max_connections} before the deadline ({budget:g} s)."
                    ),
                )
                waited = waited or waited_for_client or waited_for_share or waited_for_pool
                # After a wait on this side the destination did not get its whole
                # deadline: running out of it then is not the destination's failure.
                cut = ran_out or (
                    f"Waited for a free slot on this side, then the deadline ({budget:g} s) "
                    "ran out before the destination answered."
                    if waited
                    else None
                )
                try:
                    answer = await breaker.call(
                        lambda: self._post(request, deadline, cut, attempts),
                        is_failure=lambda answer: answer.status >= 500,
                        counts=lambda exc: isinstance(exc, DESTINATION_FAILURES),
                    )
                finally:
                    self._pool.release()
            attempts.last = answer
            return answer

        # Most calls need no retry, and tenacity's machinery costs about 0.25 ms per call
        # (measured): the first attempt goes straight out, and only an outcome worth
        # retrying is handed to tenacity, replayed as its first attempt so that it decides
        # the wait (backoff or Retry-After) and everything after.
        first: _Answer | TransportError
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

        async def replay_then_attempt() -> _Answer:
            nonlocal replayed
            if replayed:
                return await attempt()
            replayed = True
            if isinstance(first, Exception):
                raise first
            return first

        retrying = AsyncRetrying(
            stop=stop_after_attempt(target.max_attempts) | _DeadlineStop(deadline, loop.time),
            wait=_BackoffOrRetryAfter(target),
            retry=(
                retry_if_exception_type(RETRY_ERRORS)
                | retry_if_result(lambda answer: answer.status in RETRY_STATUSES)
            ),
            # Out of attempts or time: the last answer is the result, the last error raised.
            retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
            sleep=self._sleep,
            reraise=True,
        )
        answer: _Answer = await retrying(replay_then_attempt)
        return answer

    async def _post(
        self, request: _Outgoing, deadline: float, cut: str | None, attempts: _Attempts
    ) -> _Answer:
        """One attempt; a timeout is ``CutShort`` saying ``cut`` when that is given."""
        attempts.count += 1
        # The deadline covers the whole exchange, a body that drips in included.
        try:
            async with asyncio.timeout_at(deadline):
                return await self._transport.post(
                    request.wire_url,
                    request.content,
                    request.headers,
                    max_bytes=self.max_response_bytes,
                )
        except TimeoutError as exc:
            if cut is not None:
                raise CutShort(cut) from exc
            raise


@functools.lru_cache(maxsize=1024)
def _parsed(url: str) -> tuple[httpx.URL, str]:
    """The URL as the gateway dials it, parsed once per destination URL, not once per
    call (httpx's parser is slow); ``UndialableURL`` for one that cannot be."""
    parsed = httpx.URL(dialable_url(url))
    return parsed, str(parsed)


def _json_or_none(content: bytes) -> tuple[Any, str | None]:
    """(body, None) for an empty or JSON body that can be reported; (None, what is wrong
    with it) for anything else."""
    if not content.strip():
        return None, None
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None, "a body that is not JSON"
    if not reportable(body, content):
        return None, f"a JSON body nested deeper than {MAX_JSON_DEPTH} levels"
    return body, None


# orjson writes at most 254 levels of nesting and reads 1024: anything deeper than it
# writes could never be answered (or sent) and would end the request in a 500.
MAX_JSON_DEPTH = 128


def reportable(value: Any, encoded: bytes) -> bool:
    """Whether ``value`` (decoded from ``encoded``) nests at most ``MAX_JSON_DEPTH`` deep."""
    if encoded.count(b"[") + encoded.count(b"{") <= MAX_JSON_DEPTH:
        return True  # the common case: too few brackets to nest that deep
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return True


def _first_line(exc: BaseException, fallback: str) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else fallback
