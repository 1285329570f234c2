"""Stored records of POST /api/process_data, and /api/records, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.helpers import assert_problem
from tests.conftest import BACKENDS

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)


def process(client: TestClient, user_id: int, quantity: int = 2, **headers: str) -> Any:
    return client.post(
        "/api/process_data",
        json={"user_id": user_id, "item_id": 9, "quantity": quantity},
        headers=headers,
    )


class TestProcessDataIsStored:
    def test_record_is_retrievable_at_location(self, client: TestClient) -> None:
        reply = process(client, 5, 21)
        assert reply.status_code == 200
        record = client.get(reply.headers["location"])
        assert record.status_code == 200
        body = record.json()
        assert body["id"] == reply.json()["record_id"]
        assert (body["user_id"], body["item_id"], body["quantity"], body["processed_quantity"]) == (
            5,
            9,
            21,
            42,
        )

    def test_invalid_request_stores_nothing(self, client: TestClient) -> None:
        assert process(client, 5, 0).status_code == 400
        assert client.get("/api/records").json() == {"items": [], "next_cursor": None}

    def test_idempotent_replay_stores_once(self, client: TestClient) -> None:
        first = process(client, 5, **{"Idempotency-Key": "order-1"})
        again = process(client, 5, **{"Idempotency-Key": "order-1"})
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert len(client.get("/api/records").json()["items"]) == 1
        other = process(client, 5, 3, **{"Idempotency-Key": "order-1"})
        assert other.status_code == 422


class TestListRecords:
    def test_newest_first_filtered_and_paged(self, client: TestClient) -> None:
        ids = [process(client, user).json()["record_id"] for user in (1, 2, 1, 1, 2)]
        mine = [i for i, user in zip(ids, (1, 2, 1, 1, 2), strict=True) if user == 1]
        seen: list[int] = []
        params: dict[str, Any] = {"user_id": 1, "limit": 2}
        while True:
            response = client.get("/api/records", params=params)
            page = response.json()
            seen += [r["id"] for r in page["items"]]
            assert all(r["user_id"] == 1 for r in page["items"])
            if page["next_cursor"] is None:
                break
            assert 'rel="next"' in response.headers["link"]
            params["cursor"] = page["next_cursor"]
        assert seen == sorted(mine, reverse=True)

    def test_cursor_of_another_filter_is_400(self, client: TestClient) -> None:
        for user in (1, 1, 1):
            process(client, user)
        cursor = client.get("/api/records", params={"limit": 1}).json()["next_cursor"]
        response = client.get("/api/records", params={"limit": 1, "user_id": 1, "cursor": cursor})
        assert response.status_code == 400


class TestGetRecord:
    def test_response_404(self, client: TestClient) -> None:
        response = client.get("/api/records/77")
        assert response.status_code == 404
        assert_problem(
            response,
            {
                "type": "about:blank",
                "title": "Not Found",
                "status": 404,
                "detail": "There is no record 77.",
                "instance": "/api/records/77",
            },
        )
