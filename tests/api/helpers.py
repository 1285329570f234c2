"""Assertions shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM = "application/problem+json"
VALIDATION = "urn:contract-api:problem:validation-error"


def assert_problem(response: httpx.Response, expected: dict[str, Any]) -> None:
    """The response is problem+json and its whole body equals ``expected``."""
    assert response.headers["content-type"] == PROBLEM, response.text
    assert response.json() == expected
