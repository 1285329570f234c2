"""How generated cases are adjusted before they are sent, in the suite and in `make fuzz`.

Two rules of the contract depend on state the generator cannot know; each has tests of its
own, and here generated requests are kept from tripping over them by accident.
"""

from __future__ import annotations

import uuid

import schemathesis


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
    if case.headers and "If-Match" in case.headers:
        del case.headers["If-Match"]


def prepare(case: schemathesis.Case) -> None:
    unique_idempotency_key(case)
    no_forged_state(case)
