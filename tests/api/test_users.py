"""/api/users, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from server.app import ContractApp
from server.persistence.models import IdempotencyKey
from server.services.idempotency import fingerprint, scope_for
from tests.api.helpers import VALIDATION, assert_problem
from tests.conftest import BACKENDS
from tests.identities import ALICE

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

ADA = {"name": "Ada Lovelace", "email": "ada@example.com", "age": 36}
MERGE_PATCH = {"content-type": "application/merge-patch+json"}


def create(client: TestClient, **fields: Any) -> httpx.Response:
    response = client.post("/api/users", json={**ADA, **fields})
    assert response.status_code == 201, response.text
    return response


def not_found(user_id: int) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": f"There is no user {user_id}.",
        "instance": f"/api/users/{user_id}",
    }


class TestCreateUser:
    def test_response_201(self, client: TestClient) -> None:
        response = client.post("/api/users", json={**ADA, "email": "Ada@Example.COM"})
        assert response.status_code == 201
        user = response.json()
        assert response.headers["location"] == f"/api/users/{user['id']}"
        assert response.headers["etag"] == '"1"'
        assert {k: user[k] for k in ("name", "email", "age")} == {**ADA, "email": "ada@example.com"}
        assert user["created_at"] == user["updated_at"]
        assert datetime.fromisoformat(user["created_at"]).tzinfo is not None
        assert client.get(response.headers["location"]).json() == user

    def test_the_tutorials_body_a_name_and_an_age_is_a_user(self, client: TestClient) -> None:
        # The REST tutorial's own call; it was a 400 "email: is required".
        response = client.post("/api/users", json={"name": "Ali", "age": 25})
        assert response.status_code == 201, response.text
        assert (response.json()["name"], response.json()["email"]) == ("Ali", None)
        other = client.post("/api/users", json={"name": "Ben", "email": None})
        assert other.status_code == 201, other.text  # any number of users without one
        listed = client.get("/api/users").json()["items"]
        assert [u["email"] for u in listed] == [None, None]

    def test_an_address_is_still_unique_when_given(self, client: TestClient) -> None:
        create(client, email="x@example.com")
        create(client, email=None)
        assert client.post("/api/users", json={**ADA, "email": "X@example.com"}).status_code == 409

    def test_age_is_optional(self, client: TestClient) -> None:
        response = client.post("/api/users", json={"name": "Bo", "email": "bo@example.com"})
        assert response.status_code == 201
        assert response.json()["age"] is None

    def test_response_409_on_duplicate_email_in_any_case(self, client: TestClient) -> None:
        create(client)
        response = client.post("/api/users", json={**ADA, "email": "ADA@example.com"})
        assert response.status_code == 409
        assert_problem(
            response,
            {
                "type": "urn:contract-api:problem:conflict",
                "title": "Conflict",
                "status": 409,
                "detail": "You already have a user with this email.",
                "instance": "/api/users",
            },
        )

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            pytest.param({**ADA, "id": 7}, [("id", "is not allowed")], id="read-only-id"),
            pytest.param(
                {**ADA, "created_at": "2020-01-01T00:00:00Z"},
                [("created_at", "is not allowed")],
                id="read-only-created-at",
            ),
            pytest.param({"email": "a@b.co"}, [("name", "is required")], id="no-name"),
            pytest.param({**ADA, "name": "   "}, [("name", "must not be blank")], id="blank"),
            pytest.param(
                {**ADA, "email": "not-an-email"}, [("email", "must be a valid email")], id="email"
            ),
            pytest.param({**ADA, "age": 151}, [("age", "must be at most 150")], id="age"),
            pytest.param(
                {**ADA, "age": "36"}, [("age", "must be of type integer or null")], id="age-str"
            ),
        ],
    )
    def test_response_400(
        self, client: TestClient, body: Any, errors: list[tuple[str, str]]
    ) -> None:
        response = client.post("/api/users", json=body)
        assert response.status_code == 400
        problem = response.json()
        assert problem["type"] == VALIDATION
        assert [(e["field"], e["message"]) for e in problem["errors"]] == errors
        assert client.get("/api/users").json()["items"] == [], "nothing may be stored"

    def test_sql_looking_strings_are_stored_literally(self, client: TestClient) -> None:
        name = "Robert'); DROP TABLE users;-- %_\\"
        user = create(client, name=name, email="bobby@example.com").json()
        assert client.get(f"/api/users/{user['id']}").json()["name"] == name
        listed = client.get("/api/users", params={"name_contains": "'); DROP"}).json()["items"]
        assert [u["id"] for u in listed] == [user["id"]]
        assert client.get("/api/users", params={"name_contains": "%"}).json()["items"] == [user]
        assert client.get("/api/users", params={"name_contains": "x%_"}).json()["items"] == []


class TestIdempotentCreate:
    def test_same_key_same_body_replays_without_a_second_user(self, client: TestClient) -> None:
        first = client.post("/api/users", json=ADA, headers={"Idempotency-Key": "k-1"})
        again = client.post("/api/users", json=ADA, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        assert again.headers["idempotent-replayed"] == "true"
        assert "idempotent-replayed" not in first.headers
        assert len(client.get("/api/users").json()["items"]) == 1

    def test_same_key_other_body_is_422(self, client: TestClient) -> None:
        client.post("/api/users", json=ADA, headers={"Idempotency-Key": "k-2"})
        response = client.post(
            "/api/users", json={**ADA, "age": 37}, headers={"Idempotency-Key": "k-2"}
        )
        assert response.status_code == 422
        assert response.json()["type"] == "urn:contract-api:problem:idempotency-key-reused"

    def test_a_refusal_is_replayed_too(self, client: TestClient) -> None:
        create(client)
        first = client.post("/api/users", json=ADA, headers={"Idempotency-Key": "k-3"})
        again = client.post("/api/users", json=ADA, headers={"Idempotency-Key": "k-3"})
        assert first.status_code == again.status_code == 409
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"

    def test_key_still_running_is_409(self, client: TestClient, app: ContractApp) -> None:
        def claim(session: Session) -> None:
            now = datetime.now(UTC)
            scope = scope_for(ALICE.client_id, "create_user")
            digest = fingerprint(scope, ADA)
            session.add(
                IdempotencyKey(
                    scope=scope,
                    key="k-4",
                    fingerprint=digest,
                    state="running",
                    created_at=now,
                    updated_at=now,
                )
            )

        client.portal.call(partial(app.db.write, claim))
        response = client.post("/api/users", json=ADA, headers={"Idempotency-Key": "k-4"})
        assert response.status_code == 409
        assert response.json()["type"] == "urn:contract-api:problem:idempotency-in-progress"

    def test_key_older_than_24h_is_forgotten(self, client: TestClient, app: ContractApp) -> None:
        client.post("/api/users", json=ADA, headers={"Idempotency-Key": "k-5"})

        def age_key(session: Session) -> None:
            old = datetime.now(UTC) - timedelta(hours=25)
            session.execute(update(IdempotencyKey).values(created_at=old, updated_at=old))

        client.portal.call(partial(app.db.write, age_key))
        response = client.post(
            "/api/users",
            json={**ADA, "email": "new@example.com"},
            headers={"Idempotency-Key": "k-5"},
        )
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers

    def test_same_key_concurrently_does_the_work_once(self, app: ContractApp) -> None:
        async def burst() -> list[int]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://t", headers=ALICE.headers
            ) as http:
                replies = await asyncio.gather(
                    *(
                        http.post("/api/users", json=ADA, headers={"Idempotency-Key": "k-6"})
                        for _ in range(8)
                    )
                )
                listed = await http.get("/api/users")
            await app.db.dispose()  # in this loop, which owns its connections
            assert len(listed.json()["items"]) == 1
            return sorted(r.status_code for r in replies)

        statuses = asyncio.run(burst())
        assert set(statuses) <= {201, 409}
        assert 201 in statuses


class TestGetUser:
    def test_response_200_with_etag(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.get(f"/api/users/{user['id']}")
        assert response.status_code == 200
        assert response.headers["etag"] == '"1"'
        assert response.json() == user

    @pytest.mark.parametrize(
        "header",
        [
            '"1"',
            'W/"1"',
            '"7", "1"',
            "*",
            '"7",\t"1"',  # OWS is SP or HTAB (RFC 9110 §5.6.3)
            '"7", , "1"',  # empty list elements are accepted (RFC 9110 §5.6.1)
            ', "1",',
        ],
    )
    def test_response_304_when_etag_matches(self, client: TestClient, header: str) -> None:
        user = create(client).json()
        response = client.get(f"/api/users/{user['id']}", headers={"If-None-Match": header})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == '"1"'
        assert response.headers["cache-control"] == "private, no-cache"

    def test_a_versioned_user_may_be_kept_and_revalidated_a_list_not(
        self, client: TestClient
    ) -> None:
        # no-store on an answer with an ETag forbade keeping what the ETag revalidates.
        created = create(client)
        assert created.headers["cache-control"] == "private, no-cache"
        read = client.get(f"/api/users/{created.json()['id']}")
        assert read.headers["cache-control"] == "private, no-cache"
        changed = client.patch(
            f"/api/users/{created.json()['id']}",
            json={"age": 37},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert changed.status_code == 200, changed.text
        assert changed.headers["cache-control"] == "private, no-cache"
        assert client.get("/api/users").headers["cache-control"] == "no-store"
        stale = client.put(
            f"/api/users/{created.json()['id']}",
            json={"name": "Ada", "email": "ada@example.com", "age": 1},
            headers={"If-Match": '"0"'},
        )
        assert stale.status_code == 412
        assert stale.headers["cache-control"] == "no-store"  # a problem, ETag or not

    def test_response_200_when_etag_is_stale(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.get(f"/api/users/{user['id']}", headers={"If-None-Match": '"0"'})
        assert response.status_code == 200

    def test_response_404(self, client: TestClient) -> None:
        response = client.get("/api/users/999")
        assert response.status_code == 404
        assert_problem(response, not_found(999))

    def test_response_400_on_id_out_of_range(self, client: TestClient) -> None:
        response = client.get("/api/users/0")
        assert response.status_code == 400
        assert response.json()["errors"] == [{"field": "user_id", "message": "must be at least 1"}]


class TestListUsers:
    @pytest.fixture
    def people(self, client: TestClient) -> list[dict[str, Any]]:
        # Capitalised ASCII names sort alike under SQLite's and PostgreSQL's collations.
        names = [("Cleo", 20), ("Ada", 30), ("Bob", 40), ("Dora", None), ("Eve", 50)]
        return [
            create(client, name=n, email=f"{n.lower()}@example.com", age=a).json() for n, a in names
        ]

    def test_pages_follow_next_cursor_and_link(
        self, client: TestClient, people: list[dict[str, Any]]
    ) -> None:
        seen: list[int] = []
        url = "/api/users?limit=2"
        while url:
            response = client.get(url)
            assert response.status_code == 200
            page = response.json()
            assert len(page["items"]) <= 2
            seen += [u["id"] for u in page["items"]]
            if page["next_cursor"] is None:
                assert "link" not in response.headers
                break
            link = response.headers["link"]
            assert link.endswith('>; rel="next"')
            url = link[1 : link.index(">")]
            assert f"cursor={page['next_cursor']}" in url
        assert seen == [p["id"] for p in people]

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            pytest.param({"sort": "name"}, ["Ada", "Bob", "Cleo", "Dora", "Eve"], id="name"),
            pytest.param({"sort": "-name"}, ["Eve", "Dora", "Cleo", "Bob", "Ada"], id="-name"),
            pytest.param(
                {"sort": "-created_at"}, ["Eve", "Dora", "Bob", "Ada", "Cleo"], id="newest"
            ),
            pytest.param({"name_contains": "O"}, ["Cleo", "Bob", "Dora"], id="contains"),
            pytest.param({"email": "BOB@example.com"}, ["Bob"], id="email"),
            pytest.param({"min_age": 30, "max_age": 45}, ["Ada", "Bob"], id="age-range"),
            pytest.param({"min_age": 60}, [], id="none"),
        ],
    )
    def test_filters_and_sorts(
        self,
        client: TestClient,
        people: list[dict[str, Any]],
        params: dict[str, Any],
        expected: list[str],
    ) -> None:
        response = client.get("/api/users", params=params)
        assert [u["name"] for u in response.json()["items"]] == expected

    def test_sorted_pages_do_not_skip_or_repeat(
        self, client: TestClient, people: list[dict[str, Any]]
    ) -> None:
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"sort": "-name", "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/users", params=params).json()
            seen += [u["id"] for u in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(p["id"] for p in people)
        assert len(seen) == len(set(seen))

    def test_tampered_cursor_is_400(self, client: TestClient, people: list[dict[str, Any]]) -> None:
        cursor = client.get("/api/users", params={"limit": 1}).json()["next_cursor"]
        forged = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
        response = client.get("/api/users", params={"limit": 1, "cursor": forged})
        assert response.status_code == 400
        assert_problem(
            response,
            {
                "type": "urn:contract-api:problem:invalid-cursor",
                "title": "Invalid cursor",
                "status": 400,
                "detail": "The cursor is not one this service issued.",
                "instance": "/api/users",
            },
        )

    def test_cursor_for_other_filters_is_400(
        self, client: TestClient, people: list[dict[str, Any]]
    ) -> None:
        cursor = client.get("/api/users", params={"limit": 1}).json()["next_cursor"]
        response = client.get("/api/users", params={"limit": 1, "cursor": cursor, "sort": "name"})
        assert response.status_code == 400
        assert response.json()["type"] == "urn:contract-api:problem:invalid-cursor"

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({"limit": 0}, "limit", "must be at least 1"),
            ({"limit": 101}, "limit", "must be at most 100"),
            ({"sort": "age"}, "sort", "must be one of created_at, -created_at, name, -name"),
            ({"min_age": -1}, "min_age", "must be at least 0"),
            ({"unknown": 1}, "unknown", "is not a known query parameter"),
        ],
    )
    def test_response_400(
        self, client: TestClient, params: dict[str, Any], field: str, message: str
    ) -> None:
        response = client.get("/api/users", params=params)
        assert response.status_code == 400
        assert response.json()["errors"] == [{"field": field, "message": message}]

    @pytest.mark.parametrize(
        "query", ["limit=1&limit=5", "sort=name&sort=-name", "min_age=1&min_age=90"]
    )
    def test_a_parameter_given_twice_is_400(self, client: TestClient, query: str) -> None:
        """Which of two values counts is not for the service to guess: a proxy or a cache in
        front may have read the other one."""
        response = client.get(f"/api/users?{query}")
        assert response.status_code == 400
        name = query.split("=", 1)[0]
        assert response.json()["errors"] == [{"field": name, "message": "must not be repeated"}]


class TestReplaceUser:
    def test_response_200_replaces_everything(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.put(
            f"/api/users/{user['id']}",
            json={"name": "Ada King", "email": "king@example.com"},
            headers={"If-Match": '"1"'},
        )
        assert response.status_code == 200
        assert response.headers["etag"] == '"2"'
        body = response.json()
        assert (body["name"], body["email"], body["age"]) == ("Ada King", "king@example.com", None)
        assert body["created_at"] == user["created_at"]
        assert body["updated_at"] > user["updated_at"]

    def test_response_412_with_current_etag(self, client: TestClient) -> None:
        user = create(client).json()
        client.put(f"/api/users/{user['id']}", json=ADA)
        response = client.put(f"/api/users/{user['id']}", json=ADA, headers={"If-Match": '"1"'})
        assert response.status_code == 412
        assert response.headers["etag"] == '"2"'
        assert response.json()["type"] == "urn:contract-api:problem:precondition-failed"

    @pytest.mark.parametrize("header", ['"9",\t"1"', '"9" ,\t, "1"', '"1",', ',"1"'])
    def test_if_match_list_with_tabs_and_empty_elements(
        self, client: TestClient, header: str
    ) -> None:
        user = create(client).json()
        response = client.put(f"/api/users/{user['id']}", json=ADA, headers={"If-Match": header})
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize("header", ['"1" "2"', ",", " , ", '"1", *', '"1";"2"'])
    def test_if_match_that_is_no_list_of_tags_is_400(self, client: TestClient, header: str) -> None:
        user = create(client).json()
        response = client.put(f"/api/users/{user['id']}", json=ADA, headers={"If-Match": header})
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in response.json()["errors"]] == ["If-Match"]

    def test_response_409_on_taken_email(self, client: TestClient) -> None:
        create(client)
        other = create(client, email="other@example.com").json()
        response = client.put(f"/api/users/{other['id']}", json=ADA)
        assert response.status_code == 409
        assert client.get(f"/api/users/{other['id']}").json() == other

    def test_response_404(self, client: TestClient) -> None:
        response = client.put("/api/users/999", json=ADA)
        assert response.status_code == 404
        assert_problem(response, not_found(999))


class TestUpdateUser:
    def test_merge_patch(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.patch(
            f"/api/users/{user['id']}", json={"age": None, "name": "A. L."}, headers=MERGE_PATCH
        )
        assert response.status_code == 200
        assert (response.json()["name"], response.json()["age"]) == ("A. L.", None)
        assert response.json()["email"] == ADA["email"]
        assert response.headers["etag"] == '"2"'

    def test_an_address_can_be_removed_and_given_again(self, client: TestClient) -> None:
        user = create(client).json()
        cleared = client.patch(
            f"/api/users/{user['id']}", json={"email": None}, headers=MERGE_PATCH
        )
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["email"] is None
        again = client.patch(
            f"/api/users/{user['id']}", json={"email": "Ada@New.example"}, headers=MERGE_PATCH
        )
        assert again.json()["email"] == "ada@new.example"

    def test_empty_patch_changes_nothing(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.patch(f"/api/users/{user['id']}", json={}, headers=MERGE_PATCH)
        assert response.status_code == 200
        assert response.json() == user
        assert response.headers["etag"] == '"1"'

    def test_name_cannot_be_cleared(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.patch(
            f"/api/users/{user['id']}", json={"name": None}, headers=MERGE_PATCH
        )
        assert response.status_code == 400
        assert response.json()["errors"] == [{"field": "name", "message": "must be of type string"}]

    def test_plain_json_is_415(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.patch(f"/api/users/{user['id']}", json={"age": 1})
        assert response.status_code == 415

    def test_if_match_star_and_stale(self, client: TestClient) -> None:
        user = create(client).json()
        ok = client.patch(
            f"/api/users/{user['id']}", json={"age": 1}, headers={**MERGE_PATCH, "If-Match": "*"}
        )
        assert ok.status_code == 200
        stale = client.patch(
            f"/api/users/{user['id']}", json={"age": 2}, headers={**MERGE_PATCH, "If-Match": '"1"'}
        )
        assert stale.status_code == 412
        assert client.get(f"/api/users/{user['id']}").json()["age"] == 1

    def test_concurrent_guarded_updates_never_lose_one(self, app: ContractApp) -> None:
        """Ten writers read version 1 and race: exactly one wins, the rest get 412."""

        async def race() -> tuple[list[int], dict[str, Any]]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://t", headers=ALICE.headers
            ) as http:
                user = (await http.post("/api/users", json=ADA)).json()
                url = f"/api/users/{user['id']}"
                replies = await asyncio.gather(
                    *(
                        http.patch(url, json={"age": n}, headers={**MERGE_PATCH, "If-Match": '"1"'})
                        for n in range(10)
                    )
                )
                final = await http.get(url)
            await app.db.dispose()  # in this loop, which owns its connections
            return sorted(r.status_code for r in replies), {
                **final.json(),
                "etag": final.headers["etag"],
            }

        statuses, final = asyncio.run(race())
        assert statuses == [200] + [412] * 9
        assert final["etag"] == '"2"'


class TestDeleteUser:
    def test_response_204_then_404(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.delete(f"/api/users/{user['id']}", headers={"If-Match": '"1"'})
        assert response.status_code == 204
        assert response.content == b""
        assert client.get(f"/api/users/{user['id']}").status_code == 404
        assert client.delete(f"/api/users/{user['id']}").status_code == 404

    def test_response_412_keeps_the_user(self, client: TestClient) -> None:
        user = create(client).json()
        client.patch(f"/api/users/{user['id']}", json={"age": 1}, headers=MERGE_PATCH)
        response = client.delete(f"/api/users/{user['id']}", headers={"If-Match": '"1"'})
        assert response.status_code == 412
        assert client.get(f"/api/users/{user['id']}").status_code == 200

    def test_deleted_ids_are_not_reused(self, client: TestClient) -> None:
        first = create(client).json()
        client.delete(f"/api/users/{first['id']}")
        second = create(client).json()
        assert second["id"] > first["id"]


class TestHeaderOnSeveralLines:
    """A header sent on two lines: a list (If-Match, If-None-Match) is one list of both
    (RFC 9110 §5.3), a single value (Idempotency-Key) is refused; never the last line alone."""

    def test_if_match_lines_are_one_list(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.put(
            f"/api/users/{user['id']}",
            json=ADA,
            headers=[("If-Match", '"1"'), ("If-Match", '"9"')],
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'

    def test_if_none_match_lines_are_one_list(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.get(
            f"/api/users/{user['id']}",
            headers=[("If-None-Match", '"1"'), ("If-None-Match", '"9"')],
        )
        assert response.status_code == 304

    def test_every_line_is_validated(self, client: TestClient) -> None:
        user = create(client).json()
        response = client.put(
            f"/api/users/{user['id']}",
            json=ADA,
            headers=[("If-Match", "not-a-tag"), ("If-Match", '"1"')],
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in response.json()["errors"]] == ["If-Match"]

    def test_idempotency_key_on_two_lines_is_400(self, client: TestClient) -> None:
        response = client.post(
            "/api/users",
            json=ADA,
            headers=[("Idempotency-Key", "k-7"), ("Idempotency-Key", "k-8")],
        )
        assert response.status_code == 400
        assert_problem(
            response,
            {
                "type": VALIDATION,
                "title": "Validation failed",
                "status": 400,
                "detail": "Idempotency-Key: must not be repeated",
                "instance": "/api/users",
                "errors": [{"field": "Idempotency-Key", "message": "must not be repeated"}],
            },
        )
        assert client.get("/api/users").json()["items"] == []
