"""What the repositories hand out: one frozen dataclass per table, so that mypy checks
every field name from the database to the answer (``tests/unit/test_rows.py`` finds each
by its ``TABLE`` and holds it to that table's columns). Rows come from SQLAlchemy Core as
named tuples and are turned into these once, at the repository's edge."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Row


@dataclass(frozen=True, slots=True)
class ClientRow:
    TABLE: ClassVar[str] = "api_clients"

    client_id: str
    name: str
    scopes: str  # space-separated, as in OAuth2
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class UserRow:
    TABLE: ClassVar[str] = "users"

    id: int
    name: str
    email: str | None
    age: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    owner: str | None


@dataclass(frozen=True, slots=True)
class RecordRow:
    TABLE: ClassVar[str] = "records"

    id: int
    user_id: int
    item_id: int
    quantity: int
    processed_quantity: int
    created_at: datetime
    owner: str | None


@dataclass(frozen=True, slots=True)
class IdempotencyRow:
    TABLE: ClassVar[str] = "idempotency_keys"

    scope: str
    key: str
    fingerprint: str
    state: str  # "running" or "done"
    status_code: int | None
    headers: dict[str, str] | None
    body: bytes | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DestinationRow:
    TABLE: ClassVar[str] = "destinations"

    name: str
    url: str
    timeout_seconds: float
    max_attempts: int
    initial_backoff_seconds: float
    max_backoff_seconds: float
    failure_threshold: int
    cooldown_seconds: float
    enabled: bool
    # Never in a repr (a log line, a traceback): the secrets that sign its requests.
    signing_secret: str = field(repr=False)
    signing_secret_created_at: datetime
    previous_signing_secret: str | None = field(repr=False)
    previous_secret_expires_at: datetime | None
    delivery_max_attempts: int
    delivery_initial_backoff_seconds: float
    delivery_max_backoff_seconds: float
    delivery_max_age_seconds: int
    # Never in a repr either: sent downstream, never answered (an Authorization value).
    downstream_headers: dict[str, str] = field(repr=False)
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DispatchRow:
    TABLE: ClassVar[str] = "dispatches"

    id: str
    owner: str
    mode: str  # "sync" or "async"
    state: str  # pending, delivered, failed
    request_id: str
    downstream_key: str = field(repr=False)
    payload: bytes = field(repr=False)
    timeout_seconds: float | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    TABLE: ClassVar[str] = "deliveries"

    id: str
    webhook_id: str  # the same on every attempt
    dispatch_id: str
    owner: str
    destination: str
    state: str  # pending, delivering, delivered, failed, dead
    attempts: int
    budget_used: int
    round_started_at: datetime
    next_attempt_at: datetime | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_error_type: str | None
    last_error_detail: str | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRow:
    TABLE: ClassVar[str] = "delivery_attempts"

    delivery_id: str
    number: int
    worker: str
    started_at: datetime
    finished_at: datetime | None
    latency_ms: float | None
    status: int | None
    error_type: str | None
    error_detail: str | None


T = TypeVar("T")


def one(kind: type[T], row: Row[Any]) -> T:
    return kind(**row._mapping)


def maybe(kind: type[T], row: Row[Any] | None) -> T | None:
    return None if row is None else kind(**row._mapping)


def each(kind: type[T], rows: Iterable[Row[Any]]) -> list[T]:
    return [kind(**row._mapping) for row in rows]
