"""Service settings: one pydantic-settings class, read once and passed into create_app()."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "APP_"


class Settings(BaseSettings):
    """Every knob of the service; each one can be set as an ``APP_<NAME>`` environment variable."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=None, extra="ignore")

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

    @property
    def response_validation(self) -> bool:
        if self.validate_responses is not None:
            return self.validate_responses
        return self.environment != "production"
