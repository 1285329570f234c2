"""Settings for tests: a secret long enough for non-development modes, generous limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from server.settings import Settings

TEST_SECRET = "test-secret-0123456789-0123456789-0123456789"
GENEROUS = "100000/minute"  # rate limits stay in the path without getting in the way
# What the ``client_with`` fixture (conftest.py) hands a test: client_with(**overrides).
ClientWith = Callable[..., TestClient]


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Response validation on, so every reply is checked against the spec."""
    values: dict[str, Any] = {
        "environment": "test",
        "validate_responses": True,
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "rate_limit": GENEROUS,
        "rate_limit_anonymous": GENEROUS,
        "rate_limit_token": GENEROUS,
        **overrides,
    }
    return Settings(**values)
