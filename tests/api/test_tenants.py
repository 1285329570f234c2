"""Tenant isolation: a client sees only what it created; an admin sees everything.

Another client's resource answers 404, exactly like one that never existed, on every
method; lists leave it out; email uniqueness and Idempotency-Keys are per client.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.conftest import BACKENDS
from tests.identities import ADMIN, BOB, Identity

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

ADA = {"name": "Ada Lovelace", "email": "ada@example.com", "age": 36}
RECORD = {"user_id": 7, "item_id": 8, "quantity": 9}


class Caller:
    """The test client (one event loop, as PostgreSQL's pool needs), as another identity."""

    def __init__(self, client: TestClient, identity: Identity) -> None:
        self.client = client
        self.identity = identity

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), **self.identity.headers}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)


@pytest.fixture
def bob(client: TestClient) -> Caller:
    return Caller(client, BOB)


@pytest.fixture
def admin(client: TestClient) -> Caller:
    return Caller(client, ADMIN)


def not_found_like_a_missing_one(response: Any, missing: Any) -> None:
    """Same status, same body apart from the id in the path: nothing to tell them apart."""
    assert response.status_code == missing.status_code == 404
    assert response.json()["type"] == missing.json()["type"]
    assert response.json()["title"] == missing.json()["title"]


class TestUsers:
    @pytest.fixture
    def alices_user(self, client: TestClient) -> dict[str, Any]:
        response = client.post("/api/users", json=ADA)
        assert response.status_code == 201
        return {**response.json(), "etag": response.headers["etag"]}

    @pytest.mark.parametrize(
        ("method", "body"),
        [
            ("GET", None),
            ("PUT", {"name": "Bob's now", "email": "taken@example.com"}),
            ("PATCH", {"name": "Bob's now"}),
            ("DELETE", None),
        ],
    )
    def test_another_clients_user_is_404(
        self,
        client: TestClient,
        bob: Caller,
        alices_user: dict[str, Any],
        method: str,
        body: dict[str, Any] | None,
    ) -> None:
        headers = {"If-Match": alices_user["etag"]} if method != "GET" else {}
        if method == "PATCH":
            headers["Content-Type"] = "application/merge-patch+json"
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["json"] = body
        if method == "PATCH":
            kwargs.pop("json")
            kwargs["content"] = b'{"name": "Bob\'s now"}'
        response = bob.request(method, f"/api/users/{alices_user['id']}", **kwargs)
        missing = bob.request(method, "/api/users/999999", **kwargs)
        not_found_like_a_missing_one(response, missing)
        # ...and nothing changed for its owner.
        mine = client.get(f"/api/users/{alices_user['id']}")
        assert mine.status_code == 200
        assert mine.json()["name"] == ADA["name"]

    def test_lists_show_only_the_callers_users(
        self, client: TestClient, bob: Caller, admin: Caller, alices_user: dict[str, Any]
    ) -> None:
        bobs = bob.post("/api/users", json={**ADA, "name": "Bob's Ada"}).json()
        assert [u["id"] for u in client.get("/api/users").json()["items"]] == [alices_user["id"]]
        assert [u["id"] for u in bob.get("/api/users").json()["items"]] == [bobs["id"]]
        everyone = {u["id"] for u in admin.get("/api/users").json()["items"]}
        assert everyone == {alices_user["id"], bobs["id"]}

    def test_email_is_unique_per_client(
        self, client: TestClient, bob: Caller, alices_user: dict[str, Any]
    ) -> None:
        assert bob.post("/api/users", json=ADA).status_code == 201  # no leak of Alice's
        assert client.post("/api/users", json=ADA).status_code == 409

    def test_admin_can_read_and_change_anyones_user(
        self, admin: Caller, alices_user: dict[str, Any]
    ) -> None:
        url = f"/api/users/{alices_user['id']}"
        assert admin.get(url).status_code == 200
        patched = admin.patch(
            url,
            content=b'{"age": 37}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200
        assert patched.json()["age"] == 37


class TestRecords:
    def test_another_clients_record_is_404(
        self, client: TestClient, bob: Caller, admin: Caller
    ) -> None:
        record_id = client.post("/api/process_data", json=RECORD).json()["record_id"]
        assert client.get(f"/api/records/{record_id}").status_code == 200
        not_found_like_a_missing_one(
            bob.get(f"/api/records/{record_id}"), bob.get("/api/records/999999")
        )
        assert admin.get(f"/api/records/{record_id}").status_code == 200

    def test_lists_show_only_the_callers_records(
        self, client: TestClient, bob: Caller, admin: Caller
    ) -> None:
        mine = client.post("/api/process_data", json=RECORD).json()["record_id"]
        theirs = bob.post("/api/process_data", json=RECORD).json()["record_id"]
        assert [r["id"] for r in client.get("/api/records").json()["items"]] == [mine]
        assert [r["id"] for r in bob.get("/api/records?user_id=7").json()["items"]] == [theirs]
        assert {r["id"] for r in admin.get("/api/records").json()["items"]} == {mine, theirs}

    def test_cursor_of_another_client_is_refused(self, client: TestClient, bob: Caller) -> None:
        for _ in range(3):
            client.post("/api/process_data", json=RECORD)
        cursor = client.get("/api/records?limit=1").json()["next_cursor"]
        assert cursor is not None
        response = bob.get(f"/api/records?limit=1&cursor={cursor}")
        assert response.status_code == 400
        assert response.json()["type"] == "urn:contract-api:problem:invalid-cursor"


class TestIdempotencyKeysPerClient:
    def test_same_key_from_two_clients_is_two_requests(
        self, client: TestClient, bob: Caller
    ) -> None:
        headers = {"Idempotency-Key": "shared-key"}
        first = client.post("/api/process_data", json=RECORD, headers=headers)
        second = bob.post("/api/process_data", json=RECORD, headers=headers)
        assert first.status_code == second.status_code == 200
        assert "idempotent-replayed" not in second.headers
        assert first.json()["record_id"] != second.json()["record_id"]
        again = bob.post("/api/process_data", json=RECORD, headers=headers)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == second.json()
