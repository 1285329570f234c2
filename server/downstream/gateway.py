"""The fan-out: one payload POSTed to several destinations at once, every result reported.

One pooled ``httpx.AsyncClient``, made and closed by the app's lifespan, carries every
downstream call. Each destination gets its own deadline (the whole budget: every attempt
and every backoff), its retry policy (tenacity) and its circuit breaker
(``breaker.py``); the destinations run concurrently, so a dispatch takes as long as its
slowest destination, and one that hangs cannot hold the others' results back. Nothing a
destination does (refuse, hang, drip, answer garbage or gigabytes) escapes as an
exception: each ends as one ``Result``.

Attempt by attempt::

    deadline passed?  ──> timeout
    breaker open?     ──> circuit_open (no request made)
    POST, read the body up to the cap
      connect error, 429, 502, 503, 504  ──> retry after backoff or Retry-After,
                                             if attempts and the deadline allow
      2xx with an empty or JSON body     ──> succeeded
      anything else                      ──> failed, with the error type
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
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import aiohttp
import httpx
import orjson
from httpx_aiohttp import AiohttpTransport
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
from server.downstream.hosts import HostAllowList
from server.telemetry import metrics

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# No connection, or one the destination closed before answering: most often a pooled
# keep-alive connection it had just timed out, so the request never reached it (and the
# Idempotency-Key makes the retry safe should it have).
RETRY_ERRORS = (httpx.ConnectError, httpx.RemoteProtocolError)
USER_AGENT = "contract-api-gateway/0.1"


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

    def as_dict(self) -> dict[str, Any]:
        reported = {
            "destination": self.destination,
            "outcome": self.outcome,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 1),
            "attempts": self.attempts,
            "body": self.body,
        }
        if self.error_type is not None:
            reported["error"] = {"type": self.error_type, "detail": self.error_detail or ""}
        return reported


@dataclass
class _Answer:
    """One downstream response, its body read up to the cap."""

    status: int
    headers: httpx.Headers
    content: bytes
    too_large: bool


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


class Gateway:
    """The shared downstream client, the breakers, and ``dispatch``."""

    def __init__(
        self,
        *,
        max_response_bytes: int = 65536,
        max_connections: int = 100,
        allowed_hosts: HostAllowList | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_response_bytes = max_response_bytes
        self.max_connections = max_connections
        self.allowed_hosts = allowed_hosts or HostAllowList([])
        self._transport = transport
        self._clock = clock
        self._sleep = sleep
        self._client: httpx.AsyncClient | None = None
        self._breakers: dict[str, tuple[tuple[str, int, float], CircuitBreaker]] = {}

    async def start(self) -> None:
        """Open the pooled client (the app's lifespan calls this once)."""
        # httpx's API over aiohttp's connection pool: httpx's own pool (httpcore) falls
        # to a fraction of its throughput with a few dozen requests in flight (measured:
        # 160 against 1,100 requests/s at 64 concurrent 50 ms calls; encode/httpx#3215).
        transport = self._transport or AiohttpTransport(client=self._session, trust_env=False)
        self._client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # no proxy or netrc from the environment: only the stored URL
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            headers={"user-agent": USER_AGENT},
        )

    def _session(self) -> aiohttp.ClientSession:
        # One caller's downstream cookies must never ride along on another caller's
        # dispatch: neither layer keeps any.
        return aiohttp.ClientSession(
            # Idle connections go before common servers drop them (uvicorn and Node.js
            # after 5 s), so a call rarely picks one the server is closing.
            connector=aiohttp.TCPConnector(limit=self.max_connections, keepalive_timeout=4),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
        )

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

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
        payload: Any,
        *,
        headers: Mapping[str, str],
        max_timeout: float | None = None,
    ) -> list[Result]:
        """POST ``payload`` to every target at once; one result per target, in order."""
        content = orjson.dumps(payload)
        sent = {"content-type": "application/json", "accept": "application/json", **headers}
        return list(
            await asyncio.gather(
                *(
                    self.send(target, content, headers=sent, max_timeout=max_timeout)
                    for target in targets
                )
            )
        )

    async def send(
        self,
        target: Target,
        content: bytes,
        *,
        headers: Mapping[str, str],
        max_timeout: float | None = None,
    ) -> Result:
        """One destination, start to finish; never raises (but for cancellation)."""
        started = time.perf_counter()
        budget = min(target.timeout, max_timeout) if max_timeout else target.timeout
        attempts = _Attempts()
        body: Any = None
        error: tuple[str, str] | None
        try:
            if not self.allowed_hosts.allows(_parsed(target.url)):
                error = ("host_not_allowed", "The destination's host is not on the allow-list.")
            else:
                answer = await self._with_retries(target, content, headers, budget, attempts)
                body, error = self._judge(answer)
        except CircuitOpen as exc:
            error = ("circuit_open", f"Not tried further: {exc}.")
        except (TimeoutError, httpx.TimeoutException):
            error = ("timeout", f"No complete answer within {budget:g} s.")
        except httpx.ConnectError as exc:
            error = ("connect_error", _first_line(exc, "Could not connect."))
        except httpx.HTTPError as exc:
            error = ("transport_error", _first_line(exc, type(exc).__name__))
        except UnicodeError:  # a host name httpx or the resolver cannot encode
            error = ("connect_error", "The destination's host name is not valid.")
        last = attempts.last
        if error:
            logger.info(
                "destination %s failed: %s after %d attempt(s), status %s",
                target.name,
                error[0],
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

    def _judge(self, answer: _Answer) -> tuple[Any, tuple[str, str] | None]:
        """The body to report, and the error if the answer is not a success."""
        status = answer.status
        if answer.too_large:
            cap = self.max_response_bytes
            return None, ("response_too_large", f"HTTP {status} with a body over {cap} bytes.")
        body, parsed = _json_or_none(answer.content)
        if 200 <= status < 300:
            if not parsed:
                return None, ("invalid_response", f"HTTP {status} with a body that is not JSON.")
            return body, None
        if 300 <= status < 400:
            return None, ("redirect", f"HTTP {status}; redirects are not followed.")
        return body, ("http_error", f"HTTP {status}.")

    async def _with_retries(
        self,
        target: Target,
        content: bytes,
        headers: Mapping[str, str],
        budget: float,
        attempts: _Attempts,
    ) -> _Answer:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        breaker = self.breaker(target)

        async def attempt() -> _Answer:
            if loop.time() >= deadline:
                raise TimeoutError
            answer = await breaker.call(
                lambda: self._post(target, content, headers, deadline, attempts),
                is_failure=lambda answer: answer.status >= 500,
            )
            attempts.last = answer
            return answer

        # Most calls need no retry, and tenacity's machinery costs about 0.25 ms per call
        # (measured): the first attempt goes straight out, and only an outcome worth
        # retrying is handed to tenacity, replayed as its first attempt so that it decides
        # the wait (backoff or Retry-After) and everything after.
        first: _Answer | httpx.TransportError
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
        self,
        target: Target,
        content: bytes,
        headers: Mapping[str, str],
        deadline: float,
        attempts: _Attempts,
    ) -> _Answer:
        if self._client is None:
            raise RuntimeError("the gateway is not started (the app's lifespan starts it)")
        attempts.count += 1
        loop = asyncio.get_running_loop()
        # The deadline covers the whole exchange, a body that drips in included; httpx's
        # own timeouts only bound each single read.
        async with asyncio.timeout_at(deadline), _true_connection_errors():
            remaining = max(0.001, deadline - loop.time())
            async with self._client.stream(
                "POST",
                _parsed(target.url),
                content=content,
                headers=headers,
                timeout=httpx.Timeout(remaining),
            ) as response:
                body, too_large = await self._read_capped(response)
                return _Answer(response.status_code, response.headers, body, too_large)

    async def _read_capped(self, response: httpx.Response) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_response_bytes:
                return b"", True  # leaving the stream closes the connection
            chunks.append(chunk)
        return b"".join(chunks), False


@functools.lru_cache(maxsize=1024)
def _parsed(url: str) -> httpx.URL:
    """Parsed once per destination URL, not once per call (httpx's parser is slow)."""
    return httpx.URL(url)


@contextlib.asynccontextmanager
async def _true_connection_errors() -> AsyncIterator[None]:
    """httpx_aiohttp 0.2.0 maps every aiohttp connection error, a refused connection
    included, to ``httpx.ConnectTimeout``; say what happened instead: a refused connection
    is a ``connect_error``, a closed or broken one a ``transport_error``."""
    try:
        yield
    except httpx.ConnectTimeout as exc:
        cause = exc.__cause__
        if isinstance(cause, aiohttp.ClientConnectorError):
            raise httpx.ConnectError(_first_line(cause, "Could not connect.")) from cause
        if isinstance(cause, aiohttp.ServerDisconnectedError):
            raise httpx.RemoteProtocolError("The destination closed the connection.") from cause
        if isinstance(cause, aiohttp.ClientConnectionError) and not isinstance(
            cause, aiohttp.ServerTimeoutError
        ):
            raise httpx.ReadError(_first_line(cause, "The connection broke.")) from cause
        raise


def _json_or_none(content: bytes) -> tuple[Any, bool]:
    """(body, True) for an empty or JSON body, (None, False) for anything else."""
    if not content.strip():
        return None, True
    try:
        return orjson.loads(content), True
    except orjson.JSONDecodeError:
        return None, False


def _first_line(exc: BaseException, fallback: str) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else fallback
