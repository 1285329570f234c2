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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
