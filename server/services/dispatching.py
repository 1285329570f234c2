"""Dispatch: pick the destinations, fan the payload out, sum the results up."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from server.downstream.gateway import Gateway
from server.downstream.results import MAX_JSON_DEPTH, Result, reportable
from server.downstream.signing import message_id_for
from server.errors import DispatchFailed, ValidationFailed
from server.persistence.database import Database
from server.services.destinations import targets_for


@dataclass(frozen=True)
class Report:
    request_id: str
    results: list[Result]
    disclose: bool  # the caller may read failures' details and bodies (an admin)

    def as_dict(self) -> dict[str, Any]:
        succeeded = sum(result.succeeded for result in self.results)
        return {
            "request_id": self.request_id,
            "summary": "complete" if succeeded == len(self.results) else "partial",
            "succeeded": succeeded,
            "failed": len(self.results) - succeeded,
            "results": [result.as_dict(disclose=self.disclose) for result in self.results],
        }


# A value a downstream header can carry as it is: printable ASCII, no spaces (the spec's
# pattern for Idempotency-Key and X-Request-ID, checked again here, before any attempt).
_PRINTABLE = re.compile(r"[!-~]+")
_MAX_LENGTH = {"Idempotency-Key": 255, "X-Request-ID": 200}


def _checked_header(field: str, value: str) -> str:
    limit = _MAX_LENGTH[field]
    if len(value) > limit or not _PRINTABLE.fullmatch(value):
        message = f"must be 1 to {limit} printable ASCII characters, no spaces"
        raise ValidationFailed([{"field": field, "message": message}])
    return value


_ids = random.Random()  # seeded from os.urandom once per process


def new_id() -> str:
    """128 random bits in hex: unique, not secret. Without the system call per id that
    ``uuid4`` makes, which gives up the GIL (measured: 6% of a dispatch's time went there,
    waiting for the database threads to hand it back)."""
    return f"{_ids.getrandbits(128):032x}"


def _encoded(payload: Any) -> bytes:
    """The payload as sent; one nested deeper than can be reported is a 400."""
    try:
        content = orjson.dumps(payload)
    except TypeError:  # orjson writes no more than 254 levels
        content = b""
    if not content or not reportable(payload, content):
        message = f"must not nest deeper than {MAX_JSON_DEPTH} levels"
        raise ValidationFailed([{"field": "payload", "message": message}])
    return content


def downstream_idempotency_key(client_id: str, key: str | None) -> str:
    """The key downstreams see: the caller's, made unique per client, or a fresh one.

    Either way every attempt of one dispatch carries the same key, so a retried send is
    safe for a downstream that honours ``Idempotency-Key``.
    """
    return f"{client_id}:{key}" if key else f"dispatch-{new_id()}"


class Dispatches:
    """Dispatches as the handler sees them (built by the composition root): the destinations
    read from the database, the payload fanned out through the gateway."""

    def __init__(self, db: Database, gateway: Gateway) -> None:
        self._db = db
        self._gateway = gateway

    async def dispatch(
        self,
        *,
        client_id: str,
        disclose: bool,
        payload: Any,
        names: Sequence[str] | None,
        max_timeout: float | None,
        request_id: str,
        idempotency_key: str | None,
    ) -> Report:
        """Send ``payload`` to the chosen destinations at once; 502 if every one failed.

        ``disclose`` says whether the report may carry failures' details and bodies.
        """
        if idempotency_key is not None:
            _checked_header("Idempotency-Key", idempotency_key)
        headers = {
            "x-request-id": _checked_header("X-Request-ID", request_id),
            "idempotency-key": downstream_idempotency_key(client_id, idempotency_key),
        }
        content = _encoded(payload)
        targets = await self._db.read(targets_for, names=names)
        # A caller's retry (the same Idempotency-Key) sends each destination the same
        # webhook-id again, so a receiver that drops duplicates drops it too.
        ids = (
            {t.name: message_id_for(client_id, idempotency_key, t.name) for t in targets}
            if idempotency_key is not None
            else None
        )
        results = await self._gateway.dispatch(
            targets,
            content,
            client_id=client_id,
            headers=headers,
            max_timeout=max_timeout,
            message_ids=ids,
        )
        report = Report(request_id, results, disclose)
        if not any(result.succeeded for result in results):
            raise DispatchFailed(request_id=request_id, results=report.as_dict()["results"])
        return report
