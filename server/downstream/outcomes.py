"""How one destination's call is judged: an answer as a success or an error type, an
exception as an error type, and which failures count against the destination's breaker.

Error types are the API's (``DeliveryError`` in the spec); their public sentences are in
``results.py``."""

from __future__ import annotations

from typing import Any

from server.downstream.breaker import CircuitOpen
from server.downstream.results import json_or_none
from server.downstream.slots import CutShort
from server.downstream.transport import (
    Answer,
    Broken,
    ClosedBeforeAnswer,
    ConnectFailed,
    NotSendable,
    TransportError,
    first_line,
)

# What failed only counts against a destination when the destination itself failed: it
# refused or dropped the connection, broke the exchange, or ran out its own deadline.
DESTINATION_FAILURES = (TimeoutError, ConnectFailed, ClosedBeforeAnswer, Broken)
# Failures of this side before a byte reached the destination (never counted).
LOCAL_FAILURES = (UnicodeError, NotSendable)

Error = tuple[str, str]  # (error type, detail)


class NotSent(Exception):
    """The request could not be built or sent: nothing reached the destination."""


def judged(answer: Answer, *, max_bytes: int) -> tuple[Any, Error | None]:
    """The body to report, and the error if the answer is not a success."""
    status = answer.status
    if answer.too_large:
        return None, ("response_too_large", f"HTTP {status} with a body over {max_bytes} bytes.")
    body, unfit = json_or_none(answer.content)
    if 200 <= status < 300:
        if unfit:
            return None, ("invalid_response", f"HTTP {status} with {unfit}.")
        return body, None
    if 300 <= status < 400:
        return None, ("redirect", f"HTTP {status}; redirects are not followed.")
    return body, ("http_error", f"HTTP {status}.")


def failure(exc: Exception, *, budget: float) -> Error | None:
    """The error a call that raised ``exc`` ends in (``budget``: its deadline, in seconds);
    None for an exception no call should raise (a bug: the caller logs it)."""
    if isinstance(exc, CutShort):
        return ("cut_short", str(exc))
    if isinstance(exc, NotSent):
        return ("not_sent", str(exc))
    if isinstance(exc, CircuitOpen):
        return ("circuit_open", f"Not tried further: {exc}.")
    if isinstance(exc, TimeoutError):
        return ("timeout", f"No complete answer within {budget:g} s.")
    if isinstance(exc, ConnectFailed):
        return ("connect_error", first_line(exc, "Could not connect."))
    if isinstance(exc, LOCAL_FAILURES):
        return ("not_sent", f"Nothing was sent: {first_line(exc, type(exc).__name__)}")
    if isinstance(exc, TransportError):
        return ("transport_error", first_line(exc, type(exc).__name__))
    return None
