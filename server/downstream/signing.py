"""Standard Webhooks signatures on every downstream request (https://www.standardwebhooks.com/).

Each request carries ``webhook-id`` (one per destination and dispatch, the same on every
retry, so a receiver can drop duplicates), ``webhook-timestamp`` (the attempt's Unix
seconds) and ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``
made by the ``standardwebhooks`` library with the destination's secret, one per secret
that still signs (space-separated while a rotation's overlap lasts).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from standardwebhooks import Webhook

from server.ids import new_id

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64 random bytes


def new_secret() -> str:
    """A fresh secret in the form every Standard Webhooks library reads: ``whsec_<base64>``."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    return f"msg_{new_id(40)}"  # unique, not secret: what the signature covers


def message_id_for(client_id: str, idempotency_key: str, destination: str) -> str:
    """The id a caller's retry with the same ``Idempotency-Key`` sends again, so that a
    receiver dropping duplicates by ``webhook-id`` drops that retry too."""
    digest = hashlib.sha256(f"{client_id}\0{idempotency_key}\0{destination}".encode())
    return f"msg_{digest.hexdigest()[:40]}"


@functools.lru_cache(maxsize=1024)
def _webhook(secret: str) -> Webhook:
    return Webhook(secret)  # decodes the key once per secret, not once per request


@dataclass(frozen=True)
class Signer:
    """Signs with each of ``secrets``, newest first; never shows them (no repr)."""

    secrets: tuple[str, ...] = field(repr=False)

    def headers(self, message_id: str, when: datetime, content: bytes) -> list[tuple[str, str]]:
        """The three header fields of one attempt sent at ``when`` (timezone-aware)."""
        data = content.decode("utf-8")  # what is sent is UTF-8 JSON: sign exactly that
        signature = " ".join(
            _webhook(secret).sign(message_id, when, data) for secret in self.secrets
        )
        return [
            ("webhook-id", message_id),
            ("webhook-timestamp", str(math.floor(when.timestamp()))),
            ("webhook-signature", signature),
        ]
