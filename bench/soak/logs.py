"""What the server's log says: tracebacks, ERROR lines and the first 5xx requests, in the
setup's part of the log and in the serving part."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_PLAIN_RECORD = re.compile(r"^(\d{4}-\d\d-\d\d[ T]|(INFO|WARNING|ERROR|DEBUG|CRITICAL):|\$ )")
# A JSON line that may be an error (others are skipped unparsed: the log has one per request).
_WORTH_PARSING = re.compile(r'"(?:error|critical)"|"exception"|"status":\s*5\d\d')
MAX_TRACEBACK_LINES = 60  # kept: the first ones and, above all, the last ones
MAX_FAILED_REQUESTS = 5


def log_findings(path: Path, start: int = 0, end: int | None = None) -> dict[str, Any]:
    """Errors in the log between bytes ``start`` and ``end``: tracebacks, ERROR lines, the
    first traceback in full and the request lines (JSON access log) of the first 5xx.

    Reads both of the service's formats: JSON lines (``APP_LOG_FORMAT=json``, where a
    traceback is the ``exception`` field) and plain text (tracebacks over several lines).
    """
    findings: dict[str, Any] = {
        "tracebacks": 0,
        "error_lines": 0,
        "first_traceback": None,
        "failed_requests": [],
    }
    block: list[str] | None = None  # the plain-text traceback being collected
    previous = ""
    try:
        with path.open("rb") as log:
            log.seek(start)
            position = start
            for raw in log:
                position += len(raw)
                if end is not None and position > end:
                    break
                line = raw.decode(errors="replace").rstrip("\n")
                if block is not None:
                    if _PLAIN_RECORD.match(line):
                        findings["first_traceback"] = _shorten(block)
                        block = None
                    else:
                        block.append(line)
                if line.startswith("{"):
                    _json_line(line, findings)
                elif "Traceback (most recent call last)" in line:
                    findings["tracebacks"] += 1
                    if findings["first_traceback"] is None and block is None:
                        block = [previous, line]  # the record before it says what failed
                elif " ERROR " in line or line.startswith(("ERROR:", "CRITICAL:")):
                    findings["error_lines"] += 1
                previous = line
    except OSError:
        return findings
    if block is not None:
        findings["first_traceback"] = _shorten(block)
    return findings


def _shorten(lines: list[str]) -> str:
    if len(lines) > MAX_TRACEBACK_LINES:
        lines = [*lines[:10], "...", *lines[10 - MAX_TRACEBACK_LINES :]]
    return "\n".join(lines)


def _json_line(line: str, findings: dict[str, Any]) -> None:
    if not _WORTH_PARSING.search(line):
        return  # a request answered without error: most of the log
    try:
        record = json.loads(line)
    except ValueError:
        return
    if not isinstance(record, dict):
        return
    if record.get("level") in ("error", "critical"):
        findings["error_lines"] += 1
    exception = record.get("exception")
    if isinstance(exception, str):
        findings["tracebacks"] += 1
        if findings["first_traceback"] is None:
            context = {k: v for k, v in record.items() if k != "exception"}
            findings["first_traceback"] = json.dumps(context) + "\n" + exception
    status = record.get("status")
    failed = findings["failed_requests"]
    if isinstance(status, int) and status >= 500 and len(failed) < MAX_FAILED_REQUESTS:
        failed.append(line)
