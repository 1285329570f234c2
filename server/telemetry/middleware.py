"""The outermost layers: the request id, then one log line and the metrics per request.

``request_id`` is asgi-correlation-id's middleware: it takes a valid ``X-Request-ID`` or
makes one up, keeps it in a context variable for every log line of the request, and
returns it. ``Telemetry`` times the request, counts it and logs it. The layers inside
tell it what they learn through the ``RequestInfo`` in the scope: ``AccessControl``
the operationId and the client, ``DocsMiddleware`` that it served the docs.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import structlog
from asgi_correlation_id import CorrelationIdMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.telemetry import metrics

TELEMETRY = "contract_api.telemetry"
REQUEST_ID_HEADER = "X-Request-ID"
# The spec's RequestId: 1 to 200 printable ASCII characters.
_VALID_REQUEST_ID = re.compile(r"[!-~]{1,200}")

access_log = structlog.stdlib.get_logger("server.access")


@dataclass(slots=True)
class RequestInfo:
    """What the inner layers learn about a request, for its log line and metrics."""

    operation: str | None = None
    client_id: str | None = None
    probe: bool = False  # a health probe: logged at DEBUG, so probes do not flood the log


def request_info(scope: Scope) -> RequestInfo | None:
    info: RequestInfo | None = scope.get(TELEMETRY)
    return info


def valid_request_id(value: str) -> bool:
    return _VALID_REQUEST_ID.fullmatch(value) is not None


def request_id(generator: Any) -> partial[CorrelationIdMiddleware]:
    """The request-id layer; ``generator`` makes an id for a request that brought none."""
    return partial(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        generator=generator,
        validator=valid_request_id,
    )


class Telemetry:
    """Per request: the in-flight gauge, the request counter and latency histogram by
    operationId and status, and one log line. Also answers ``GET /metrics``."""

    def __init__(self, app: ASGIApp, *, metrics_path: str | None, access_log: bool) -> None:
        self.app = app
        self.metrics_path = metrics_path
        self.log_requests = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == self.metrics_path:
            await self._metrics(scope, send)
            return
        info = scope[TELEMETRY] = RequestInfo()
        status = 500  # unless an answer starts: the request failed before it could have one
        started = time.perf_counter()

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics.IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            metrics.IN_FLIGHT.dec()
            seconds = time.perf_counter() - started
            operation = info.operation or "unmatched"
            metrics.REQUEST_METRICS.observe(operation, status, seconds)
            level = logging.DEBUG if info.probe else logging.INFO
            if self.log_requests and access_log.isEnabledFor(level):
                access_log.log(
                    level,
                    "request",
                    method=scope["method"],
                    path=scope["path"][:200],
                    operation=operation,
                    client_id=info.client_id,
                    status=status,
                    latency_ms=round(seconds * 1000, 2),
                )

    @staticmethod
    async def _metrics(scope: Scope, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            status, body = 405, b"Method Not Allowed\n"
            headers = [(b"allow", b"GET, HEAD"), (b"content-type", b"text/plain")]
        else:
            status, body = 200, metrics.exposition()
            headers = [(b"content-type", metrics.CONTENT_TYPE.encode())]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
