"""Logs as one JSON object per line, rendered by structlog.

Every line, ours or a library's (uvicorn, SQLAlchemy), goes through the same processors:
an ISO timestamp, the level, the logger's name and, inside a request, its ``request_id``.
The request log (``middleware.Telemetry``) adds the operationId, the client id, the status
and the latency. Nothing here logs headers, bodies or a traceback's local variables, so
no credential or payload reaches the log.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal, TextIO

import orjson
import structlog
from asgi_correlation_id import correlation_id
from structlog.typing import EventDict, Processor, WrappedLogger

LogFormat = Literal["json", "console"]


def add_request_id(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The id of the request being served (``X-Request-ID``), on every line it causes."""
    request_id = correlation_id.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def _dumps(value: Any, **kwargs: Any) -> str:
    return orjson.dumps(value, **kwargs).decode()


SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    add_request_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
]


def configure_structlog() -> None:
    """structlog's loggers hand their events to the standard library's logging, so one
    handler (set by ``configure_logging``, or pytest's) formats every line."""
    if structlog.is_configured():
        return
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def formatter(fmt: LogFormat = "json") -> logging.Formatter:
    renderer: Processor = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        # Lines from logging.getLogger() loggers; ``extra={...}`` fields become keys.
        foreign_pre_chain=[*SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # A plain traceback string: structured tracebacks would carry local variables.
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def configure_logging(
    level: str = "info", fmt: LogFormat = "json", stream: TextIO | None = None
) -> None:
    """Send every log line of the process to ``stream`` (stderr) in ``fmt``.

    Servers call this once per process (``server.asgi``, ``python -m server``); tests
    leave logging to pytest. uvicorn's own loggers lose their handlers and propagate here,
    and its access log is off: ``Telemetry`` logs each request with more to say.
    """
    configure_structlog()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
        library.setLevel(logging.NOTSET)
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs each downstream call's whole URL at INFO; a destination's query string
    # may hold a token, and the dispatch metrics already count every call.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # warnings become JSON lines too, not bare stderr text
