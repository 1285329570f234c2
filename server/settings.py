"""Service settings: one pydantic-settings class, read once and passed into create_app()."""

from __future__ import annotations

import secrets
from functools import cached_property
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "APP_"


class Settings(BaseSettings):
    """Every knob of the service; each one can be set as an ``APP_<NAME>`` environment variable."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=None, extra="ignore", populate_by_name=True
    )

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1,
        description="Request bodies larger than this are refused with 413 before they are read.",
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
            "Signs pagination cursors. Unset: a random key per process, so cursors do not "
            "survive a restart or cross instances; set it when running several."
        ),
    )

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
