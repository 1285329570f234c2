"""Logs as one JSON object per line, rendered by structlog.

Every line carries an ISO timestamp, the level, the logger's name and, inside a request,
its ``request_id``. Two roads lead to stderr:

* the request log (``middleware.Telemetry``, one line per request) is a structlog logger
  writing straight to the stream: 7 µs a line, where going through the standard
  library's logging cost 24 µs (two ``LogRecord``s and a formatter per line);
* every other line, ours (``logging.getLogger(__name__)``) or a library's (uvicorn,
  SQLAlchemy, alembic), goes through the standard library's logging, rendered by
  structlog's ``ProcessorFormatter`` with the same processors.

Nothing here logs headers, bodies or a traceback's local variables, so no credential or
payload reaches the log.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Literal, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from server.telemetry.context import current_request_id

LogFormat = Literal["json", "console"]


def add_request_id(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    """The id of the request being served (``X-Request-ID``), on every line it causes."""
    request_id = current_request_id()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def _dumps(value: Any, **kwargs: Any) -> str:
    return orjson.dumps(value, **kwargs).decode()


def _renderer(fmt: LogFormat) -> Processor:
    if fmt == "json":
        return structlog.processors.JSONRenderer(serializer=_dumps)
    return structlog.dev.ConsoleRenderer(colors=False)


TIMESTAMP = structlog.processors.TimeStamper(fmt="iso", utc=True, key="time")
FOREIGN: list[Processor] = [
    add_request_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    # ``logger.info("...", extra={"folder": ...})``: the extra fields become keys.
    structlog.stdlib.ExtraAdder(),
    TIMESTAMP,
]


def formatter(fmt: LogFormat = "json") -> logging.Formatter:
    """The standard library's lines, rendered like structlog's own."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=FOREIGN,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # A plain traceback string: structured tracebacks would carry local variables.
            structlog.processors.format_exc_info,
            _renderer(fmt),
        ],
    )


def configure_logging(
    level: str = "info", fmt: LogFormat = "json", stream: TextIO | None = None
) -> None:
    """Send every log line of the process to ``stream`` (stderr) in ``fmt``.

    Servers call this once per process (``server.asgi``, ``python -m server``), before the
    app is built; tests leave logging to pytest and capture the request log. uvicorn's
    own loggers lose their handlers and propagate here, and its access log is off:
    ``Telemetry`` logs each request with more to say.
    """
    stream = stream or sys.stderr
    threshold = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            add_request_id,
            structlog.processors.add_log_level,
            TIMESTAMP,
            _renderer(fmt),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(threshold)
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
