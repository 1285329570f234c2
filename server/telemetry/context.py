"""The id of the request being served, for every log line it causes and every call it
makes downstream (set by ``middleware.Telemetry``)."""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return REQUEST_ID.get()
