"""How generated cases are adjusted before they are sent, in the suite and in `make fuzz`.

Two rules of the contract depend on state the generator cannot know; each has tests of its
own, and here generated requests are kept from tripping over them by accident.
"""

from __future__ import annotations

import os
import uuid

import schemathesis

# Where generated destinations point. A URL fits its schema as any string starting with
# http://, but only one on the allow-list is accepted (a 400, tested on its own); fuzzing
# must not send traffic anywhere but loopback either. The suite points this at a real
# downstream server; `make fuzz` leaves it at a loopback port where nothing listens.
DESTINATION_URL = os.environ.get("FUZZ_DESTINATION_URL", "http://127.0.0.1:9/hook")


def unique_idempotency_key(case: schemathesis.Case) -> None:
    """Generated cases reuse the same few header values with different bodies, which the
    contract answers with 422 (key reused). That rule has its own tests; here each valid key
    is made unique so that valid requests are judged on their own merits."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and 1 <= len(key) <= 200:
        case.headers["Idempotency-Key"] = f"{key}-{uuid.uuid4().hex}"


def no_forged_state(case: schemathesis.Case) -> None:
    """A cursor or an ETag fits its schema as any string of the right shape, but only one
    the service issued is valid: a forged cursor is a 400 and a stale If-Match a 412, each
    tested on its own. Valid generated requests therefore go without them."""
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    if case.query and "cursor" in case.query:
        del case.query["cursor"]
    for header in ("If-Match", "If-None-Match"):
        if case.headers and header in case.headers:
            # Schemathesis' coverage phase cannot write a header value with a quote in it,
            # and sends one that does not fit the pattern as if it did: never a valid tag.
            del case.headers[header]


def safe_destinations(case: schemathesis.Case) -> None:
    """Valid generated destinations point at ``url`` (see DESTINATION_URL). Valid dispatches
    go to every enabled destination: a generated name is unknown (400, tested on its own),
    and a generated deadline too short for even a healthy destination is a 502 by contract."""
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    if not isinstance(case.body, dict):
        return
    if case.operation.method.upper() in ("POST", "PATCH") and "url" in case.body:
        if case.operation.path.startswith("/destinations"):
            case.body["url"] = DESTINATION_URL
    if case.operation.path == "/dispatch":
        case.body.pop("destinations", None)
        case.body.pop("timeout_seconds", None)


def prepare(case: schemathesis.Case) -> None:
    unique_idempotency_key(case)
    no_forged_state(case)
    safe_destinations(case)
