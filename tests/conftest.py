"""Shared fixtures: settings -> app -> client, composed (flaskr's conftest is the model)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.app import ContractApp, create_app
from server.settings import Settings


@pytest.fixture
def settings() -> Settings:
    """Test settings: response validation on, so every reply is checked against the spec."""
    return Settings(environment="test", validate_responses=True)


@pytest.fixture
def app(settings: Settings) -> ContractApp:
    return create_app(settings)


@pytest.fixture
def client(app: ContractApp) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
