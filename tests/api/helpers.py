"""Assertions and steps shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.testclient import TestClient

from tests.identities import ADMIN

PROBLEM = "application/problem+json"
VALIDATION = "urn:contract-api:problem:validation-error"


def assert_problem(response: httpx.Response, expected: dict[str, Any]) -> None:
    """The response is problem+json and its whole body equals ``expected``."""
    assert response.headers["content-type"] == PROBLEM, response.text
    assert response.json() == expected


def create_destination(client: TestClient, name: str, url: str, **fields: Any) -> dict[str, Any]:
    """An admin adds a destination (201, or the test fails); its answer, secret included."""
    response = client.post(
        "/api/destinations", json={"name": name, "url": url, **fields}, headers=ADMIN.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def validation_problem(instance: str, *errors: tuple[str, str]) -> dict[str, Any]:
    """The whole 400 body the service answers for ``errors`` (field, message) at ``instance``."""
    return {
        "type": VALIDATION,
        "title": "Validation failed",
        "status": 400,
        "detail": "; ".join(f"{field}: {message}" for field, message in errors),
        "instance": instance,
        "errors": [{"field": field, "message": message} for field, message in errors],
    }
