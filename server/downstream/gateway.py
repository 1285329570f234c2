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

The package, by concern: ``gateway.py`` (this: the fan-out and one destination's call),
``targets.py`` (``Target``: what the gateway is given), ``outcomes.py`` (an answer or an
exception as an error type, and what counts against the breaker), ``results.py``
(``Result``, what callers read), ``retries.py`` (what is retried, after how long),
``slots.py`` (waiting on this side within the deadline), ``breaker.py`` (the circuit
breakers), ``transport.py`` (the wire: aiohttp, its errors named), ``hosts.py`` (the
allow-list and the URL form that is dialled), ``signing.py`` (the Standard Webhooks
headers each attempt carries, signed afresh).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from server.downstream.breaker import BreakerSnapshot, BreakerState, CircuitBreaker
from server.downstream.hosts import HostAllowList, UndialableURL, dialable_url
from server.downstream.outcomes import DESTINATION_FAILURES, NotSent, failure, judged
from server.downstream.results import Result
from server.downstream.retries import retried, retry_after_seconds
from server.downstream.signing import Signer, new_message_id
from server.downstream.slots import CutShort, Slots, acquire
from server.downstream.targets import Target
from server.downstream.transport import (
    AiohttpTransport,
    Answer,
    NotSendable,
    Transport,
    check_headers,
)
from server.telemetry import metrics

logger = logging.getLogger(__name__)

USER_AGENT = "contract-api-gateway/0.1"


@dataclass(frozen=True)
class _Outgoing:
    """The request every attempt sends, checked before any."""

    url: httpx.URL  # as the allow-list reads it
    wire_url: str  # as it is dialled
    headers: list[tuple[str, str]]
    content: bytes
    message_id: str  # webhook-id: the same on every attempt
    signer: Signer | None  # signs each attempt afresh (its own webhook-timestamp)

    def attempt_headers(self, when: datetime) -> list[tuple[str, str]]:
        if self.signer is None:
            return self.headers
        return self.headers + self.signer.headers(self.message_id, when, self.content)


@dataclass
class _Attempts:
    count: int = 0
    last: Answer | None = None


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
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.max_response_bytes = max_response_bytes
        self.max_connections = max_connections
        self.allowed_hosts = allowed_hosts or HostAllowList([])
        self._transport = transport or AiohttpTransport(max_connections=max_connections)
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._started = False
        self._breakers: dict[str, tuple[tuple[str, int, float], CircuitBreaker]] = {}
        # Waiting for a connection happens here, where a wait that outlasts the deadline
        # is known to be this side's doing, not in the transport's pool.
        self._pool = asyncio.Semaphore(max_connections)
        self._shares = Slots(max_concurrent_per_client)  # a client's share of a destination
        self._clients = Slots(max_connections_per_client)  # a client's share of the pool

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
        message_ids: Mapping[str, str] | None = None,
    ) -> list[Result]:
        """POST ``content`` (JSON) to every target at once for ``client_id``; one result
        per target, in order. ``message_ids`` gives a target's ``webhook-id`` by name
        (a new one for a target it does not name)."""
        ids = message_ids or {}
        sent = {"content-type": "application/json", "accept": "application/json", **headers}
        return list(
            await asyncio.gather(
                *(
                    self.send(
                        target,
                        content,
                        client_id=client_id,
                        headers=sent,
                        max_timeout=max_timeout,
                        message_id=ids.get(target.name),
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
        message_id: str | None = None,
    ) -> Result:
        """One destination, start to finish; never raises (but for cancellation).

        Every attempt is signed with ``message_id`` as its ``webhook-id`` (a new one when
        not given) if the target has a signer."""
        message_id = message_id or new_message_id()
        started = time.perf_counter()
        cut_by_caller = max_timeout is not None and max_timeout < target.timeout
        budget = max_timeout if max_timeout is not None and cut_by_caller else target.timeout
        attempts = _Attempts()
        body: Any = None
        error: tuple[str, str] | None
        try:
            request = self._request(target, content, headers, message_id)
            if not self.allowed_hosts.allows(request.url):
                error = ("host_not_allowed", "The destination's host is not on the allow-list.")
            else:
                answer = await self._with_retries(
                    target, request, client_id, budget, cut_by_caller, attempts
                )
                body, error = judged(answer, max_bytes=self.max_response_bytes)
        except Exception as exc:  # never the whole dispatch's 500: the others' results stand
            error = failure(exc, budget=budget)
            if error is None:
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
            webhook_id=message_id if attempts.count else None,
            retry_after=retry_after_seconds(last.headers.get("retry-after")) if last else None,
        )

    def _request(
        self, target: Target, content: bytes, headers: Mapping[str, str], message_id: str
    ) -> _Outgoing:
        """The request every attempt sends, built (URL and headers encoded) before any."""
        if not self._started:
            raise RuntimeError("the gateway is not started (the app's lifespan starts it)")
        try:
            url, wire_url = _parsed(target.url)
        except UndialableURL as exc:
            # Stored before URLs were checked as they are now: store it again.
            raise NotSent(f"The stored URL cannot be dialled: it {exc}.") from None
        try:
            fields = check_headers({"user-agent": USER_AGENT, **headers, **dict(target.headers)})
        except NotSendable as exc:
            raise NotSent(f"Nothing was sent: {exc}.") from None
        return _Outgoing(url, wire_url, fields, content, message_id, target.signer)

    async def _with_retries(
        self,
        target: Target,
        request: _Outgoing,
        client_id: str,
        budget: float,
        cut_by_caller: bool,
        attempts: _Attempts,
    ) -> Answer:
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

        async def attempt() -> Answer:
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
                waited_for_pool = await acquire(
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

        return await retried(
            attempt, target=target, deadline=deadline, now=loop.time, sleep=self._sleep
        )

    async def _post(
        self, request: _Outgoing, deadline: float, cut: str | None, attempts: _Attempts
    ) -> Answer:
        """One attempt; a timeout is ``CutShort`` saying ``cut`` when that is given."""
        attempts.count += 1
        # The deadline covers the whole exchange, a body that drips in included.
        try:
            async with asyncio.timeout_at(deadline):
                return await self._transport.post(
                    request.wire_url,
                    request.content,
                    request.attempt_headers(self._wall_clock()),
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
