"""Every use of a library internal, in one place; ``tests/unit/test_compat.py`` breaks
when a library changes under one of them.

* ``init_with_inner_app``: Connexion's ``AsyncApp.__init__`` builds its own inner app
  (re-routing, per-request handler decoration); ours sets the thin ``Dispatcher`` in its
  place and runs the rest of the common initialisation (``AbstractApp.__init__``).
* ``build_middleware_stack``: Connexion builds its middleware stack, and so resolves every
  operationId to a handler, on the first request; a spec whose handler is missing then
  answers every request with a text/plain 500. We build it at start-up instead.
* ``ApiKeyHandler`` / ``OAuthHandler``: Connexion's security handlers inspect the
  verifier function's signature on every request (``_accepts_kwarg``); once is enough.
* ``MemoryCounters``: limits' asyncio memory storage schedules a sweep task on every hit
  (name-mangled ``_MemoryStorage__schedule_expiry``); ours sweeps at most once a second.
* ``NOT_THIS_SCHEME``: what a Connexion verifier returns for a credential that belongs
  to another scheme of the same header (``Authorization: Bearer`` seen by the ``Token``
  scheme's function), so that Connexion tries the next scheme (``connexion.security``'s
  undocumented ``NO_VALUE``; ``None`` would be "invalid").
* ``BoundedHttpToolsProtocol``: uvicorn's httptools protocol buffers a request's head
  without limit and waits for it, and for a body, forever; ours bounds both (it replaces
  ``data_received`` and wraps the parser callbacks and per-connection state it keeps).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import httptools
import orjson
from connexion import AsyncApp
from connexion.apps.abstract import AbstractApp
from connexion.security import NO_VALUE, ApiKeySecurityHandler, OAuthSecurityHandler
from connexion.utils import inspect_function_arguments
from limits.aio.storage import MemoryStorage
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.http.problems import MAX_INSTANCE_CHARS
from server.telemetry import metrics

logger = logging.getLogger(__name__)


NOT_THIS_SCHEME = NO_VALUE


def init_with_inner_app(app: AsyncApp, inner: Any, import_name: str, **kwargs: Any) -> None:
    """``AsyncApp.__init__`` with ``inner`` as the app inside the middleware."""
    app._middleware_app = inner
    AbstractApp.__init__(app, import_name, **kwargs)


def build_middleware_stack(app: AsyncApp) -> None:
    """Build ``app``'s middleware stack now (Connexion would on the first request)."""
    middleware = app.middleware
    if middleware.middleware_stack is None:
        middleware.app, middleware.middleware_stack = middleware._build_middleware_stack()


@lru_cache(maxsize=64)
def _accepts(function: Any, keyword: str) -> bool:
    arguments, has_kwargs = inspect_function_arguments(function)
    return has_kwargs or keyword in arguments


class ApiKeyHandler(ApiKeySecurityHandler):
    _accepts_kwarg = staticmethod(_accepts)  # type: ignore[assignment]


class OAuthHandler(OAuthSecurityHandler):
    _accepts_kwarg = staticmethod(_accepts)  # type: ignore[assignment]


class MemoryCounters(MemoryStorage):
    """limits' asyncio memory storage, sweeping out idle counters once a second.

    The stock storage schedules a sweep task on every hit, which cost about 20 µs per
    request here (its threaded twin starts a timer thread every 10 ms, worse on a busy
    core). Counts are unaffected: an expired counter is dropped whenever it is read; the
    sweep only frees the memory of keys nobody uses any more.
    """

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._next_sweep = 0.0

    async def _MemoryStorage__schedule_expiry(self) -> None:  # limits' private hook
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + self.SWEEP_SECONDS
            await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


@dataclass(frozen=True)
class EdgeLimits:
    """What a request may cost before the app sees it (``APP_MAX_HEADER_BYTES``,
    ``APP_MAX_HEADER_LINE_BYTES``, ``APP_HEADER_TIMEOUT_SECONDS``, ``APP_BODY_TIMEOUT_SECONDS``)."""

    max_head_bytes: int = 32 * 1024
    max_line_bytes: int = 8 * 1024
    head_seconds: float = 10.0
    body_seconds: float = 30.0
    max_body_bytes: int = 1024 * 1024


def _refusal(status: HTTPStatus, detail: str, instance: str | None = None) -> bytes:
    """A whole HTTP/1.1 answer with a problem document, after which the connection closes."""
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": status.phrase,
        "status": status.value,
        "detail": detail,
    }
    if instance:
        problem["instance"] = instance[:MAX_INSTANCE_CHARS]
    body = orjson.dumps(problem)
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        "cache-control: no-store\r\n"
        "x-content-type-options: nosniff\r\n"
        "connection: close\r\n"
    )
    return head.encode("ascii") + b"\r\n" + body


def _uri_too_long(limits: EdgeLimits, path: str | None = None) -> bytes:
    detail = f"The request's URL exceeds {limits.max_line_bytes} bytes."
    return _refusal(HTTPStatus.REQUEST_URI_TOO_LONG, detail, instance=path)


def _path_of(url: bytes) -> str | None:
    """The path of a request target as uvicorn puts it in the scope (percent-decoded), from
    as much of it as arrived; None when that much is no URL."""
    try:
        raw = httptools.parse_url(url).path
        path = raw.decode("ascii") if raw else None
    except (httptools.HttpParserInvalidURLError, UnicodeDecodeError):
        return None
    if path is None:  # an absolute URL cut before its path
        return None
    return unquote(path) if "%" in path else path


class _Refused(Exception):
    """Raised from a parser callback: httptools stops and raises an HttpParserError."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded edge, before any app code runs:

    * a head (request line and header fields) over ``max_head_bytes`` is refused with 431:
      counted on the wire as it streams in (so it is never buffered whole) and field by
      field as the parser completes them (so blank lines before it or a pipelined request
      in the same read cannot hide any of it); one header field over ``max_line_bytes``
      gets 431 too, a URL over it 414;
    * trailer fields after a chunked body are refused (400): uvicorn would add them to the
      request's headers, after any proxy in front had checked those; a body phase that
      takes more than twice ``max_body_bytes`` on the wire (framing included) is a 413;
    * a head must arrive within ``head_seconds`` of its first byte (a new connection's
      first head, of the connection), a body within ``body_seconds`` of its head: else
      408;
    * bytes that are not HTTP get a 400 problem document, not uvicorn's plain text; a
      request for a protocol upgrade (``h2c``, a WebSocket) is answered as HTTP/1.1 and its
      connection closed after it, so nothing sent after it is ever read as a request.

    A refusal is written only where the connection is free for it. When an answer is still
    on its way (a pipelined request before the refused one, or the refused request's own
    early answer), that answer is finished, the connection closes after it, and nothing
    more is read. A request that arrives whole in one read arms no timer at all; uvicorn's
    keep-alive timeout still closes idle connections between requests.
    """

    def __init__(self, *args: Any, limits: EdgeLimits = EdgeLimits(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._refusing = self._answers(limits)
        self._max_body_wire_bytes = 2 * limits.max_body_bytes + limits.max_head_bytes
        self._in_head = True  # between requests counts as "in a head"
        self._begun = False  # the parser has seen the first byte of a message
        self._head_bytes = 0  # on the wire, since the last message ended
        self._head_fields = 0  # as parsed: the URL and the fields of this message
        self._body_bytes = 0  # on the wire, since this message's head ended
        self._tail = b""  # the last bytes of the head so far, to find its end across reads
        self._awaiting_body = False
        self._finished = False  # refused or upgraded: nothing more is read
        self._streaming: Any = None  # a pipelined request's cycle still answering
        self._timer: asyncio.TimerHandle | None = None
        self._refusal_reason: str | None = None
        self._refused_path: str | None = None  # a URL too long: its path, for the 414

    @staticmethod
    @lru_cache(maxsize=8)
    def _answers(limits: EdgeLimits) -> dict[str, bytes]:
        return {
            "header_too_large": _refusal(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                f"The request's header fields exceed {limits.max_head_bytes} bytes in all.",
            ),
            "header_line_too_large": _refusal(
                HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                f"A header field exceeds {limits.max_line_bytes} bytes.",
            ),
            "uri_too_long": _uri_too_long(limits),
            "trailer": _refusal(
                HTTPStatus.BAD_REQUEST, "Trailer fields after a chunked body are not accepted."
            ),
            "body_too_large": _refusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"The request body is larger than the limit of {limits.max_body_bytes} bytes.",
            ),
            "header_timeout": _refusal(
                HTTPStatus.REQUEST_TIMEOUT,
                f"The request's header fields did not arrive within {limits.head_seconds:g} s.",
            ),
            "body_timeout": _refusal(
                HTTPStatus.REQUEST_TIMEOUT,
                f"The request's body did not arrive within {limits.body_seconds:g} s.",
            ),
            "malformed": _refusal(HTTPStatus.BAD_REQUEST, "The request is not valid HTTP."),
        }

    # -- connection ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.limits.head_seconds, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._streaming is not None and not self._streaming.response_complete:
            self._streaming.disconnected = True  # uvicorn only tells the newest cycle
            self._streaming.message_event.set()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's own, with the bytes counted first and parser errors answered here."""
        if self._finished:
            return
        self._unset_keepalive_if_required()
        if self._in_head:
            if self._head_overflows(data):
                self._refuse("header_too_large")
                return
            self._head_bytes += len(data)
            self._tail = (self._tail + data[-3:])[-3:]
        else:
            self._body_bytes += len(data)
            if self._body_bytes > self._max_body_wire_bytes:
                self._refuse("body_too_large")
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():  # only if uvicorn was given a WebSocket protocol
                self.handle_websocket_upgrade()
            elif self._awaiting_body:  # what follows would be the upgraded protocol's
                self._refuse("malformed")
            else:
                self._finish_after_answer()
            return
        except httptools.HttpParserError:  # a callback's _Refused arrives as one too
            self._refuse(self._refusal_reason or "malformed")
            return
        if self._timer is None and not self.transport.is_closing():
            if self._in_head and (self._head_bytes or self._begun):
                self._arm(self.limits.head_seconds, self._head_timed_out)
            elif self._awaiting_body:
                self._arm(self.limits.body_seconds, self._body_timed_out)

    def _head_overflows(self, data: bytes) -> bool:
        """Whether the head crosses its limit in ``data`` (what follows its end is body)."""
        limit = self.limits.max_head_bytes
        if self._head_bytes + len(data) <= limit:
            return False
        joined = self._tail + data
        end = joined.find(b"\r\n\r\n")
        return end < 0 or self._head_bytes + end + 4 - len(self._tail) > limit

    # -- parser callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._begun = True
        self._head_fields = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        if len(self.url) + len(url) > self.limits.max_line_bytes:
            # Its path is the problem's instance, as for every other problem: the
            # beginning of it is enough (instances are cut to MAX_INSTANCE_CHARS).
            self._refused_path = _path_of((self.url + url)[: self.limits.max_line_bytes])
            self._stop("uri_too_long")
        self._count_field(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._in_head:
            self._stop("trailer")
        if len(name) + len(value) > self.limits.max_line_bytes:
            self._stop("header_line_too_large")
        self._count_field(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count_field(self, size: int) -> None:
        self._head_fields += size
        if self._head_fields > self.limits.max_head_bytes:
            self._stop("header_too_large")

    def _stop(self, reason: str) -> None:
        self._refusal_reason = reason
        raise _Refused

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._awaiting_body = True
        self._body_bytes = 0
        self._disarm()
        previous = self.cycle
        super().on_headers_complete()
        if previous is not None and previous is not self.cycle and not previous.response_complete:
            self._streaming = previous  # uvicorn queues the new one behind it

    def on_message_complete(self) -> None:
        self._awaiting_body = False
        self._in_head = True
        self._begun = False
        self._head_bytes = 0
        self._tail = b""
        self._disarm()
        super().on_message_complete()

    # -- timers ----------------------------------------------------------------------------

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_timed_out(self) -> None:
        self._timer = None
        if self._head_bytes == 0 and not self._begun and self._answering() is None:
            self.transport.close()  # nothing sent yet: an idle connection, just closed
        else:
            self._refuse("header_timeout")

    def _body_timed_out(self) -> None:
        self._timer = None
        self._refuse("body_timeout")

    # -- refusals --------------------------------------------------------------------------

    def _answering(self) -> Any:
        """The cycle whose answer is still to finish on this connection, if any: a
        pipelined request's, the request before a refused head's, or the refused request's
        own answer begun early."""
        for cycle in (self._streaming, self.cycle):
            if cycle is None or cycle.response_complete:
                continue
            if self._in_head or cycle is self._streaming or cycle.response_started:
                return cycle
        return None

    def _refuse(self, reason: str) -> None:
        """Answer ``reason``'s problem where the connection is free for it, and close."""
        self._disarm()
        if self.transport.is_closing() or self._finished:
            return
        metrics.EDGE_REFUSALS.labels(reason).inc()
        logger.debug("request refused at the edge: %s", reason, extra={"client": self.client})
        refused = None if self._in_head else self.cycle  # the refused request's cycle
        if refused is not None and not refused.response_started:
            refused.disconnected = True  # its handler's answer, if it comes, goes nowhere
            refused.message_event.set()  # and its wait for more body ends
        if self._answering() is not None:
            self._finish_after_answer()
            return
        if refused is None or not refused.response_started:
            if reason == "uri_too_long" and self._refused_path:
                self.transport.write(_uri_too_long(self.limits, self._refused_path))
            else:
                self.transport.write(self._refusing[reason])
        self.transport.close()

    def _finish_after_answer(self) -> None:
        """Read nothing more; close once the answer under way is complete."""
        self._finished = True
        self._disarm()
        self.pipeline.clear()  # a request queued behind it never runs
        self.flow.pause_reading()
        answering = self._answering()
        if answering is None:
            if self.cycle is None or self.cycle.response_complete:
                self.transport.close()
            else:
                self.cycle.keep_alive = False
            return
        answering.keep_alive = False  # uvicorn closes the connection after this answer
