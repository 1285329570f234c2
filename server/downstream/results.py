"""What the gateway reports: how a destination fared (``Result``), and what a caller who is
not an admin may read of a failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

# What a client other than an admin reads for each error type: stable, and free of
# anything about the destination (host, port, resolver, TLS or library text).
PUBLIC_DETAILS = {
    "connect_error": "Could not connect to the destination.",
    "timeout": "The destination gave no complete answer within its deadline.",
    "cut_short": (
        "Stopped on this side before the destination answered (your timeout_seconds ran "
        "out first, or no connection was free in time); the cut is not counted against it."
    ),
    "http_error": "The destination answered with an error status.",
    "redirect": "The destination answered with a redirect, which is not followed.",
    "invalid_response": (
        "The destination answered 2xx with a body the gateway cannot report (not JSON, "
        "or nested too deep)."
    ),
    "response_too_large": "The destination's answer was larger than the gateway accepts.",
    "circuit_open": "Not tried: the destination has been failing and its breaker is open.",
    "host_not_allowed": "The destination's host is not on the allow-list.",
    "transport_error": "The connection to the destination broke, or it spoke bad HTTP.",
    "not_sent": "Nothing was sent: the request could not be built.",
}
# What an asynchronous delivery's attempt may end in besides (spec: ``DeliveryError``).
DELIVERY_DETAILS = {
    **PUBLIC_DETAILS,
    "interrupted": (
        "The service stopped or lost the attempt before it recorded the outcome; the "
        "destination may have received it."
    ),
    "destination_removed": "The destination was deleted.",
    "destination_disabled": "The destination is disabled; tried again later.",
}


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
    webhook_id: str | None = None  # the signed requests' id, when one was sent
    retry_after: float | None = None  # the last answer's Retry-After, in seconds

    @property
    def succeeded(self) -> bool:
        return self.error_type is None

    @property
    def outcome(self) -> str:
        return "succeeded" if self.succeeded else "failed"

    def as_dict(self, *, disclose: bool) -> dict[str, Any]:
        """The result as the API reports it; ``disclose`` (admins) keeps a failure's
        detail and body, otherwise they become a fixed sentence and null."""
        reported: dict[str, Any] = {"destination": self.destination}
        if self.webhook_id is not None:
            reported["webhook_id"] = self.webhook_id
        reported |= {
            "outcome": self.outcome,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 1),
            "attempts": self.attempts,
            "body": self.body if disclose or self.error_type is None else None,
        }
        if self.error_type is not None:
            detail = self.error_detail if disclose else PUBLIC_DETAILS.get(self.error_type)
            reported["error"] = {"type": self.error_type, "detail": detail or ""}
        return reported


def json_or_none(content: bytes) -> tuple[Any, str | None]:
    """(body, None) for an empty or JSON body that can be reported; (None, what is wrong
    with it) for anything else."""
    if not content.strip():
        return None, None
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None, "a body that is not JSON"
    if not reportable(body, content):
        return None, f"a JSON body nested deeper than {MAX_JSON_DEPTH} levels"
    return body, None


# orjson writes at most 254 levels of nesting and reads 1024: anything deeper than it
# writes could never be answered (or sent) and would end the request in a 500.
MAX_JSON_DEPTH = 128


def reportable(value: Any, encoded: bytes) -> bool:
    """Whether ``value`` (decoded from ``encoded``) nests at most ``MAX_JSON_DEPTH`` deep."""
    if encoded.count(b"[") + encoded.count(b"{") <= MAX_JSON_DEPTH:
        return True  # the common case: too few brackets to nest that deep
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return True
