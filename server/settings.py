"""Service settings: one pydantic-settings class, read once and passed into create_app()."""

from __future__ import annotations

import ipaddress
import secrets
import ssl
from functools import cached_property
from pathlib import Path
from typing import Literal, Self

from limits import parse_many
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "APP_"
PLACEHOLDER_SECRET = "change-me"
MIN_SECRET_CHARS = 32


class Settings(BaseSettings):
    """Every knob of the service; each one can be set as an ``APP_<NAME>`` environment variable."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=None, extra="ignore", populate_by_name=True
    )

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    graceful_shutdown_seconds: int = Field(
        default=30,
        ge=1,
        le=3600,
        description=(
            "On SIGTERM, how long requests in flight may take to finish before the server "
            "closes them; keep it under your orchestrator's kill timeout."
        ),
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = Field(
        default="json",
        description="json: one JSON object per line (for log collectors); console: for people.",
    )
    access_log: bool = Field(
        default=True,
        description=(
            "One log line per request (request id, operationId, client id, status, latency) "
            "at INFO; health probes at DEBUG."
        ),
    )
    metrics: bool = Field(
        default=True,
        description=(
            "Serve Prometheus metrics at /metrics. It needs no credential: keep it off the "
            "public side of the load balancer."
        ),
    )
    metrics_samples_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR"),
        description=(
            "prometheus_client's folder of samples shared by worker processes, so that "
            "/metrics sums them all; `python -m server` with several workers makes one."
        ),
    )

    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        description="Request bodies larger than this are refused with 413 before they are read.",
    )
    tls_certfile: Path | None = Field(
        default=None,
        description=(
            "Serve HTTPS with this PEM certificate (chain); with APP_TLS_KEYFILE. "
            "Strict-Transport-Security is then sent on every answer."
        ),
    )
    tls_keyfile: Path | None = Field(
        default=None, description="The PEM private key of APP_TLS_CERTFILE."
    )
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        le=1024 * 1024,
        description=(
            "A request's head (request line and header fields) larger than this is refused "
            "with 431 and its connection closed, as it streams in."
        ),
    )
    max_header_line_bytes: int = Field(
        default=8 * 1024,
        ge=256,
        le=1024 * 1024,
        description="One header field (name and value) or a URL longer than this: 431 or 414.",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description=(
            "A request's head must arrive within this many seconds of its first byte (or of "
            "the connection); otherwise 408 and the connection is closed."
        ),
    )
    body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description=(
            "A request's body must arrive within this many seconds of its head; a stalled or "
            "trickling body gets 408 and its connection is closed."
        ),
    )
    validate_responses: bool | None = Field(
        default=None,
        description=(
            "Check every response against the spec (slow; meant for tests). "
            "Unset means: on in development and test, off in production."
        ),
    )
    swagger_ui: bool = Field(default=True, description="Serve Swagger UI at /api/ui/.")

    database_url: str = Field(
        default="sqlite:///./var/contract-api.db",
        validation_alias=AliasChoices("APP_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL: sqlite:///path (default) or postgresql://user@host/db.",
    )
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a connection or a lock."
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        description=(
            "NORMAL (with WAL) survives a crash of the process; FULL also survives power loss, "
            "at the cost of an fsync per commit."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Signs pagination cursors and (HS256) access tokens. Required, at least 32 "
            "characters and not the placeholder outside development. Unset in development: "
            "a random key per run (python -m server shares it with its workers), so cursors "
            "and tokens do not survive a restart."
        ),
    )

    # Authentication (see server/security.py).
    jwt_algorithm: Literal["HS256", "RS256"] = Field(
        default="HS256",
        description="The one algorithm access tokens are signed and accepted with.",
    )
    jwt_private_key_file: Path | None = Field(
        default=None, description="PEM RSA private key that signs tokens (RS256)."
    )
    jwt_public_key_file: Path | None = Field(
        default=None, description="PEM RSA public key that verifies tokens (RS256)."
    )
    jwt_issuer: str = Field(default="contract-api", min_length=1)
    jwt_audience: str = Field(default="contract-api", min_length=1)
    access_token_seconds: int = Field(
        default=900, ge=30, le=86400, description="Lifetime of an access token."
    )
    jwt_leeway_seconds: int = Field(
        default=10, ge=0, le=300, description="Clock skew tolerated on exp, nbf and iat."
    )
    idempotency_max_keys: int = Field(
        default=10_000,
        ge=1,
        le=10_000_000,
        description=(
            "Stored Idempotency-Keys kept per client and operation; past it, the sweep "
            "drops that client's oldest finished keys first (their retries are no longer "
            "recognised)."
        ),
    )
    idempotency_sweep_seconds: float = Field(
        default=60.0,
        ge=1,
        le=86_400,
        description=(
            "How often each instance drops expired Idempotency-Keys (past their 24 h) and "
            "trims clients over APP_IDEMPOTENCY_MAX_KEYS."
        ),
    )
    delivery_workers: bool = Field(
        default=True,
        description=(
            "Whether this process runs delivery workers for asynchronous dispatches "
            "(Prefer: respond-async). Off, run them as their own processes: python -m "
            "server worker."
        ),
    )
    delivery_concurrency: int = Field(
        default=16, ge=1, le=1000, description="Deliveries one process attempts at once."
    )
    delivery_poll_seconds: float = Field(
        default=1.0,
        ge=0.05,
        le=60,
        description=(
            "How often an idle worker looks for due deliveries (a 202 of its own process "
            "wakes it at once)."
        ),
    )
    delivery_lease_seconds: float = Field(
        default=90.0,
        ge=2,
        le=3600,
        description=(
            "How long a worker holds a delivery it claimed; a worker that dies leaves it to "
            "another after this. Each attempt ends within 80% of it."
        ),
    )
    delivery_drain_seconds: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description=(
            "At shutdown, how long attempts under way may finish; the rest are given back, "
            "due at once."
        ),
    )
    dispatch_retention_days: float = Field(
        default=14,
        gt=0,
        le=3650,
        description="Finished dispatches are deleted this many days after they ended.",
    )
    auth_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description=(
            "How long a verified client is trusted without asking the database again; a "
            "revoked key stops working on every instance within this bound."
        ),
    )

    # Rate limiting (see server/ratelimit.py); limits' notation, e.g. "100/minute;2000/hour".
    rate_limit_enabled: bool = True
    rate_limit: str = Field(default="600/minute", description="Per authenticated client.")
    rate_limit_anonymous: str = Field(
        default="120/minute", description="Per client IP, for calls without a credential."
    )
    rate_limit_token: str = Field(
        default="20/minute", description="Per client IP, for POST /api/oauth/token."
    )
    rate_limit_clients: dict[str, str] = Field(
        default_factory=dict,
        description='Per-client overrides, as JSON: {"<client_id>": "5000/minute"}.',
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("APP_REDIS_URL", "REDIS_URL"),
        description=(
            "redis://host:port/db: rate-limit budgets shared by every instance. Unset: "
            "counted in each process's memory."
        ),
    )
    trust_forwarded_for: bool = Field(
        default=False,
        description=(
            "Take the client IP from X-Forwarded-For, when the connection comes from one of "
            "APP_TRUSTED_PROXIES (only behind your own proxy)."
        ),
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description=(
            'Addresses or networks (JSON list: ["10.0.0.0/8"]) whose X-Forwarded-For is '
            "believed when APP_TRUST_FORWARDED_FOR is on."
        ),
    )

    # The gateway (see server/downstream/).
    dispatch_allowed_hosts: list[str] = Field(
        default_factory=list,
        description=(
            'Hosts destinations may point at, as JSON: ["billing.internal", "*.corp.example", '
            '"127.0.0.1:9000"]. Empty: any host (a warning is logged in production).'
        ),
    )
    dispatch_max_response_bytes: int = Field(
        default=64 * 1024,
        ge=1,
        le=16 * 1024 * 1024,
        description="Downstream bodies are read up to this size; a longer one is a failure.",
    )
    dispatch_max_connections: int = Field(
        default=100, ge=1, le=10000, description="Pooled connections to all destinations."
    )
    dispatch_max_connections_per_client: int = Field(
        default=64,
        ge=1,
        le=10000,
        description=(
            "Connections one client may hold at once, to all destinations together; more "
            "wait their turn within their deadline, so no client takes the whole pool."
        ),
    )
    dispatch_max_concurrent_per_client: int = Field(
        default=32,
        ge=1,
        le=10000,
        description=(
            "Calls one client may have in flight to one destination at once; more wait "
            "their turn within their deadline, so no client takes a destination's share "
            "of the pool from the others."
        ),
    )

    # Browser access.
    cors_allow_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser (JSON list); none by default.",
    )

    @field_validator("rate_limit", "rate_limit_anonymous", "rate_limit_token")
    @classmethod
    def _valid_limit(cls, value: str) -> str:
        _parse_limits(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    @field_validator("rate_limit_clients")
    @classmethod
    def _valid_client_limits(cls, value: dict[str, str]) -> dict[str, str]:
        for limit in value.values():
            _parse_limits(limit)
        return value

    @model_validator(mode="after")
    def _tls_needs_both_files(self) -> Self:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("TLS needs both APP_TLS_CERTFILE and APP_TLS_KEYFILE (PEM files).")
        for path in (self.tls_certfile, self.tls_keyfile):
            if path is not None and not path.is_file():
                raise ValueError(f"TLS file {str(path)[:200]} does not exist.")
        if self.tls_certfile is not None:
            try:  # as the server will load them, so that a bad pair stops start-up here
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(self.tls_certfile, self.tls_keyfile)
            except (ssl.SSLError, OSError) as exc:
                raise ValueError(f"TLS certificate and key do not load: {exc}") from None
        return self

    @property
    def tls(self) -> bool:
        return self.tls_certfile is not None

    @model_validator(mode="after")
    def _refuse_unsafe_secrets(self) -> Self:
        if self.environment != "development":
            secret = self.secret_key.get_secret_value() if self.secret_key else ""
            if secret == PLACEHOLDER_SECRET or len(secret) < MIN_SECRET_CHARS:
                raise ValueError(
                    f"APP_SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_CHARS} characters (not the placeholder) outside "
                    "development; generate one with: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(32))'"
                )
        if self.jwt_algorithm == "RS256" and not (
            self.jwt_private_key_file and self.jwt_public_key_file
        ):
            raise ValueError(
                "RS256 needs APP_JWT_PRIVATE_KEY_FILE and APP_JWT_PUBLIC_KEY_FILE (PEM files)."
            )
        return self

    @cached_property
    def _random_secret(self) -> str:
        return secrets.token_urlsafe(32)

    def secret(self) -> str:
        """The signing key: the configured one, or one made up for this process."""
        return self.secret_key.get_secret_value() if self.secret_key else self._random_secret

    @property
    def response_validation(self) -> bool:
        if self.validate_responses is not None:
            return self.validate_responses
        return self.environment != "production"


def _parse_limits(value: str) -> None:
    try:
        parse_many(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a rate limit; write e.g. '100/minute' or '10/second;500/hour'"
        ) from None
