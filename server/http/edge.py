"""The outermost stage: what every request gets, in one layer with one ``send`` wrapper.

Per request, ``Edge``:

* takes a valid ``X-Request-ID`` or makes one up, keeps it in a context variable for every
  log line of the request (``context.REQUEST_ID``) and returns it;
* renders whatever an inner stage or handler raised as a problem document (the handlers of
  ``problems.exception_handlers``: our problems, Connexion's, the router's 404/405, and a
  bare 500 for a bug, logged whole);
* decorates every answer, problems included, on its way out: the request id, the header
  fields inner stages put in ``RequestInfo.headers`` (the rate-limit fields), OWASP's
  security headers, and ``Cache-Control``: ``private, no-cache`` for an answer with an
  ``ETag`` (keep it, revalidate it), ``no-store`` for other data;
* counts it, times it (in-flight gauge, counter and histogram by operationId and status)
  and logs one line for it; it also answers ``GET /metrics``.

The inner stages tell it what they learn through the ``RequestInfo`` in the scope
(``scope.REQUEST``). This used to be four layers (telemetry, security headers, server
error, Starlette's exception middleware), each with a ``send`` wrapper of its own; the
request id alone cost 4.7 µs a request in asgi-correlation-id's layer (Starlette's
``MutableHeaders``), about 1 µs here on the raw header list.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import structlog
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.http.scope import REQUEST, RequestInfo
from server.telemetry import metrics
from server.telemetry.context import REQUEST_ID

logger = logging.getLogger(__name__)

ACCESS_LOGGER = "server.access"
# The spec's RequestId: 1 to 200 printable ASCII characters.
_VALID_REQUEST_ID = re.compile(rb"[!-~]{1,200}")

Handler = Callable[[Request, Exception], Awaitable[Response]]

# OWASP's REST list. API answers are data, never documents: no sniffing, no framing, no
# caching by default (a handler may set its own Cache-Control). HTML (Swagger UI) gets
# everything but the ``default-src 'none'`` policy, which would stop its scripts.
_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_NO_STORE = (b"cache-control", b"no-store")
_REVALIDATE = (b"cache-control", b"private, no-cache")
# When even the problem handlers fail: no body to build, nothing to go wrong.
_LAST_RESORT = (
    b'{"type":"about:blank","title":"Internal Server Error","status":500,'
    b'"detail":"The server failed to handle this request; the failure was logged."}'
)


def _request_id(scope: Scope, new_id: Callable[[], str]) -> str:
    """The client's ``X-Request-ID`` when it is valid; otherwise a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if _VALID_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return new_id()


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        new_id: Callable[[], str],
        handlers: Mapping[type[Exception], Handler],
        metrics_path: str | None,
        metrics_samples: Path | None,
        access_log: bool,
        hsts: bool,
    ) -> None:
        self.app = app
        self.new_id = new_id
        self.handlers = dict(handlers)
        assert Exception in self.handlers, "every exception needs a problem handler"
        self.metrics_path = metrics_path
        self.metrics_samples = metrics_samples  # the workers' shared folder, if several
        self.log_requests = access_log
        common = [*_COMMON, _HSTS] if hsts else list(_COMMON)
        self._api_headers = [
            *common,
            (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
        ]
        self._html_headers = [*common, (b"content-security-policy", b"frame-ancestors 'none'")]
        # One JSON line per request, straight to the stream (logs.py says why not stdlib),
        # as configured when the first request is logged.
        self.access_log = structlog.get_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == self.metrics_path:
            await self._metrics(scope, send)
            return
        started = time.perf_counter()
        info = scope[REQUEST] = RequestInfo()
        request_id = _request_id(scope, self.new_id)
        returned = (b"x-request-id", request_id.encode("ascii"))
        status = 0  # no answer begun yet

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": self._decorated(message, info, returned)}
            await send(message)

        token = REQUEST_ID.set(request_id)
        metrics.IN_FLIGHT.inc()
        try:
            try:
                await self.app(scope, receive, answer)
            except Exception as exc:
                if status:  # the answer had begun: all that is left is to break it off
                    logger.error("failed while answering", exc_info=exc)
                    raise
                await self._problem(exc, scope, receive, answer)
        finally:
            metrics.IN_FLIGHT.dec()
            self._observe(scope, info, status or 500, time.perf_counter() - started)
            REQUEST_ID.reset(token)

    def _decorated(
        self, message: Message, info: RequestInfo, returned: tuple[bytes, bytes]
    ) -> list[tuple[bytes, bytes]]:
        headers = [*message.get("headers", ()), *info.headers, returned]
        content_type = b""
        has_cache_control = has_etag = False
        for name, value in headers:
            name = name.lower()
            if name == b"content-type":
                content_type = value
            elif name == b"cache-control":
                has_cache_control = True
            elif name == b"etag":
                has_etag = True
        headers.extend(
            self._html_headers if content_type.startswith(b"text/html") else self._api_headers
        )
        # Data is private to its caller: a versioned answer may be kept and revalidated
        # with its ETag; anything else is not kept at all. The docs' files may be cached.
        if not has_cache_control:
            if has_etag and (message["status"] < 300 or message["status"] == 304):
                headers.append(_REVALIDATE)
            elif not content_type or b"json" in content_type:
                headers.append(_NO_STORE)
        return headers

    async def _problem(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer ``exc`` with the problem document its handler renders."""
        handler = next(cls for cls in type(exc).__mro__ if cls in self.handlers)
        try:
            response = await self.handlers[handler](Request(scope), exc)
        except Exception as failed:
            logger.error("unhandled error, and no problem handler for it", exc_info=failed)
            response = Response(_LAST_RESORT, 500, media_type="application/problem+json")
        await response(scope, receive, send)

    def _observe(self, scope: Scope, info: RequestInfo, status: int, seconds: float) -> None:
        operation = info.operation or "unmatched"
        metrics.REQUEST_METRICS.observe(operation, status, seconds)
        level = logging.DEBUG if info.probe else logging.INFO
        if self.log_requests and self.access_log.is_enabled_for(level):
            self.access_log.log(
                level,
                "request",
                logger=ACCESS_LOGGER,
                method=scope["method"],
                path=scope["path"][:200],
                operation=operation,
                client_id=info.client_id,
                status=status,
                latency_ms=round(seconds * 1000, 2),
            )

    async def _metrics(self, scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            status, body = 405, b"Method Not Allowed\n"
            headers = [(b"allow", b"GET, HEAD"), (b"content-type", b"text/plain")]
        else:
            status, body = 200, metrics.exposition(self.metrics_samples)
            headers = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
