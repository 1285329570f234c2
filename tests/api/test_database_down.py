"""With the database unreachable, every data operation is a 503 problem, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from tests.config import make_settings
from tests.identities import ALICE

UNREACHABLE = {
    # Nothing listens on port 9 of loopback: the connection is refused at once.
    "postgresql": "postgresql://postgres@127.0.0.1:9/test",
    # A file in a folder that does not exist cannot be opened.
    "sqlite": "sqlite:////nonexistent-folder/contract-api.db",
}
REQUESTS = [
    ("GET", "/api/users/1", None),
    ("GET", "/api/users", None),
    ("POST", "/api/users", {"name": "Ada", "email": "ada@example.com"}),
    ("POST", "/api/process_data", {"user_id": 1, "item_id": 1, "quantity": 1}),
    ("GET", "/api/records", None),
]


@pytest.fixture(params=list(UNREACHABLE))
def down_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(UNREACHABLE[request.param], database_timeout=1.0)
    with TestClient(create_app(settings), headers=ALICE.headers) as client:
        yield client


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
def test_response_503_with_retry_after(
    down_client: TestClient, method: str, path: str, body: dict[str, object] | None
) -> None:
    response = down_client.request(method, path, json=body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:contract-api:problem:database-unavailable",
        "title": "Database unavailable",
        "status": 503,
        "detail": "The database cannot be reached right now; retry later.",
        "instance": path,
    }


def test_service_still_answers_what_needs_no_database(down_client: TestClient) -> None:
    assert down_client.get("/api/hello").status_code == 200
