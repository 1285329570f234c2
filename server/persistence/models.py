"""Tables, as SQLAlchemy declarative models. Alembic migrations in ``migrations/`` create them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class StrictFloat(TypeDecorator[float]):
    """Floats on every backend: SQLite's RETURNING hands back a value as it was bound, so an
    integer written to a REAL column came back as an integer (``5``, where a read says ``5.0``)."""

    impl = Float
    cache_ok = True

    def process_bind_param(self, value: float | None, dialect: object) -> float | None:
        return float(value) if value is not None else None

    def process_result_value(self, value: float | None, dialect: object) -> float | None:
        return float(value) if value is not None else None


OWNER_LENGTH = 40


class Base(DeclarativeBase):
    pass


class ApiClient(Base):
    """A caller of the API: its scopes and the SHA-256 of its secret (never the secret)."""

    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(OWNER_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(String(500))  # space-separated, as in OAuth2
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_api_clients_created_at", "created_at", "client_id"),)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    age: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The client that created the row; NULL for rows older than clients (admins only).
    owner: Mapped[str | None] = mapped_column(String(OWNER_LENGTH))

    __table_args__ = (
        UniqueConstraint("owner", "email", name="uq_users_owner_email"),
        Index("ix_users_owner_created_at_id", "owner", "created_at", "id"),
        Index("ix_users_owner_name_id", "owner", "name", "id"),
        Index("ix_users_created_at_id", "created_at", "id"),
        Index("ix_users_name_id", "name", "id"),
        Index("ix_users_age", "age"),
        # Never reuse the id of a deleted row: an old ETag or link must not hit a new user.
        {"sqlite_autoincrement": True},
    )


class Record(Base):
    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    processed_quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    owner: Mapped[str | None] = mapped_column(String(OWNER_LENGTH))

    __table_args__ = (
        Index("ix_records_user_id_id", "user_id", "id"),
        Index("ix_records_owner_id", "owner", "id"),
        {"sqlite_autoincrement": True},
    )


class IdempotencyKey(Base):
    """One ``Idempotency-Key`` per operation: who claimed it, for what, and the answer given."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))  # "running" or "done"
    status_code: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())

    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)


class Destination(Base):
    """A downstream API the gateway POSTs payloads to, with its timeout, retry and breaker."""

    __tablename__ = "destinations"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    timeout_seconds: Mapped[float] = mapped_column(StrictFloat)
    max_attempts: Mapped[int] = mapped_column(Integer)
    initial_backoff_seconds: Mapped[float] = mapped_column(StrictFloat)
    max_backoff_seconds: Mapped[float] = mapped_column(StrictFloat)
    failure_threshold: Mapped[int] = mapped_column(Integer)
    cooldown_seconds: Mapped[float] = mapped_column(StrictFloat)
    enabled: Mapped[bool] = mapped_column(Boolean)
    # Standard Webhooks signing: the current secret, and the one before it while a
    # rotation's overlap lasts. HMAC needs them as they are: not hashed.
    signing_secret: Mapped[str] = mapped_column(String(64))
    signing_secret_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    previous_signing_secret: Mapped[str | None] = mapped_column(String(64))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How asynchronous deliveries to it are retried (``services/delivery.schedule``).
    delivery_max_attempts: Mapped[int] = mapped_column(Integer)
    delivery_initial_backoff_seconds: Mapped[float] = mapped_column(StrictFloat)
    delivery_max_backoff_seconds: Mapped[float] = mapped_column(StrictFloat)
    delivery_max_age_seconds: Mapped[int] = mapped_column(Integer)
    # Header fields of its own sent with every request (write-only: never answered).
    downstream_headers: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


DISPATCH_ID_LENGTH = 36  # "dsp_" (a delivery's "dlv_") and 32 hex digits
WEBHOOK_ID_LENGTH = 44  # "msg_" and 40 hex digits (downstream/signing.py)


class Dispatch(Base):
    """One ``POST /dispatch``: the payload exactly as it is sent, for whom, in which mode."""

    __tablename__ = "dispatches"

    id: Mapped[str] = mapped_column(String(DISPATCH_ID_LENGTH), primary_key=True)
    owner: Mapped[str] = mapped_column(String(OWNER_LENGTH))
    mode: Mapped[str] = mapped_column(String(5))  # "sync" or "async"
    state: Mapped[str] = mapped_column(String(10))  # pending, delivered, failed
    request_id: Mapped[str] = mapped_column(String(200))
    downstream_key: Mapped[str] = mapped_column(String(300))  # the Idempotency-Key sent on
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # the bytes signed and sent
    timeout_seconds: Mapped[float | None] = mapped_column(StrictFloat)  # the caller's cap
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_dispatches_owner_created_at_id", "owner", "created_at", "id"),
        Index("ix_dispatches_owner_state_created_at_id", "owner", "state", "created_at", "id"),
        Index("ix_dispatches_created_at_id", "created_at", "id"),
        Index("ix_dispatches_state_created_at_id", "state", "created_at", "id"),
    )


# The partial indexes' conditions. A query is planned on one only when its own condition
# implies it: ``dispatches.in_state`` writes the state into the SQL, which PostgreSQL's
# generic plans need (SQLite plans with the bound values and would match either way).
PENDING = text("state = 'pending'")
DELIVERING = text("state = 'delivering'")


class Delivery(Base):
    """One destination's part of a dispatch: the queue's row. ``attempts`` numbers the
    current or last attempt and fences it: a result is recorded only by the worker whose
    claim made that number (``persistence/dispatches.finish``)."""

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(DISPATCH_ID_LENGTH), primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(WEBHOOK_ID_LENGTH))  # the same on retries
    dispatch_id: Mapped[str] = mapped_column(String(DISPATCH_ID_LENGTH))
    owner: Mapped[str] = mapped_column(String(OWNER_LENGTH))
    destination: Mapped[str] = mapped_column(String(63))  # no foreign key: outlives it
    state: Mapped[str] = mapped_column(String(10))  # pending delivering delivered failed dead
    attempts: Mapped[int] = mapped_column(Integer)
    budget_used: Mapped[int] = mapped_column(Integer)  # attempts counted since (re)queued
    round_started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the age counts from
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error_type: Mapped[str | None] = mapped_column(String(32))
    last_error_detail: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        # The queue's indexes hold only the open rows (partial indexes, on both backends):
        # finished deliveries, most of the table and every synchronous one, cost no entry
        # in them when written, and claims search a small index however large it grows.
        Index(
            "ix_deliveries_pending_next_attempt_at",
            "next_attempt_at",
            "id",
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        ),
        Index(
            "ix_deliveries_pending_owner_next_attempt_at",
            "owner",
            "next_attempt_at",
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        ),
        Index(
            "ix_deliveries_delivering_lease_expires_at",
            "lease_expires_at",
            "owner",
            sqlite_where=DELIVERING,
            postgresql_where=DELIVERING,
        ),
        Index("ix_deliveries_dispatch_id", "dispatch_id"),
        Index("ix_deliveries_destination_dispatch_id", "destination", "dispatch_id"),
    )


class DeliveryAttempt(Base):
    """One attempt of a delivery, written when it starts and completed when it ends."""

    __tablename__ = "delivery_attempts"

    delivery_id: Mapped[str] = mapped_column(String(DISPATCH_ID_LENGTH), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latency_ms: Mapped[float | None] = mapped_column(StrictFloat)
    status: Mapped[int | None] = mapped_column(Integer)
    error_type: Mapped[str | None] = mapped_column(String(32))
    error_detail: Mapped[str | None] = mapped_column(String(300))
