"""/api/destinations: the gateway's downstream APIs, managed by admins (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.api.helpers import VALIDATION, assert_problem, validation_problem
from tests.config import ClientWith
from tests.conftest import BACKENDS
from tests.identities import ADMIN, ALICE

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

BILLING = {"name": "billing", "url": "https://billing.example.com/hooks/orders"}
MERGE_PATCH = {**ADMIN.headers, "content-type": "application/merge-patch+json"}
LONG_HOST = ("a" * 63 + ".") * 3 + "a" * 62  # 254 characters, each label a valid one


def create(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/destinations", json={**BILLING, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class TestCreateDestination:
    def test_response_201_with_defaults(self, admin: TestClient) -> None:
        response = admin.post("/api/destinations", json=BILLING)
        assert response.status_code == 201
        assert response.headers["location"] == "/api/destinations/billing"
        body = response.json()
        created, updated = body.pop("created_at"), body.pop("updated_at")
        assert created == updated
        assert datetime.fromisoformat(created).tzinfo is not None
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", body.pop("signing_secret"))
        assert body.pop("signing") == {
            "secret_created_at": created,
            "previous_secret_expires_at": None,
        }
        assert body == {
            **BILLING,
            "timeout_seconds": 5.0,
            "retry": {"max_attempts": 3, "initial_backoff_seconds": 0.1, "max_backoff_seconds": 2},
            "circuit_breaker": {"failure_threshold": 5, "cooldown_seconds": 30},
            "delivery": {
                "max_attempts": 18,
                "initial_backoff_seconds": 5.0,
                "max_backoff_seconds": 14400.0,
                "max_age_seconds": 86400,
            },
            "header_names": [],
            "enabled": True,
            "circuit": {
                "state": "closed",
                "consecutive_failures": 0,
                "retry_after_seconds": 0,
                "times_opened": 0,
            },
        }
        shown_once = {k: v for k, v in response.json().items() if k != "signing_secret"}
        assert admin.get(response.headers["location"]).json() == shown_once

    def test_every_setting_is_kept(self, admin: TestClient) -> None:
        body = create(
            admin,
            timeout_seconds=0.5,
            retry={"max_attempts": 1, "initial_backoff_seconds": 0, "max_backoff_seconds": 0},
            circuit_breaker={"failure_threshold": 2, "cooldown_seconds": 0.5},
            enabled=False,
        )
        assert body["timeout_seconds"] == 0.5
        assert body["retry"] == {
            "max_attempts": 1,
            "initial_backoff_seconds": 0,
            "max_backoff_seconds": 0,
        }
        assert body["circuit_breaker"] == {"failure_threshold": 2, "cooldown_seconds": 0.5}
        assert body["enabled"] is False

    def test_response_409_on_a_taken_name(self, admin: TestClient) -> None:
        create(admin)
        response = admin.post("/api/destinations", json={**BILLING, "url": "http://other.test/"})
        assert response.status_code == 409
        assert_problem(
            response,
            {
                "type": "urn:contract-api:problem:conflict",
                "title": "Conflict",
                "status": 409,
                "detail": "A destination named 'billing' already exists.",
                "instance": "/api/destinations",
            },
        )
        assert admin.get("/api/destinations/billing").json()["url"] == BILLING["url"]

    @pytest.mark.parametrize(
        ("url", "message"),
        [
            pytest.param("ftp://files.example.com/x", None, id="ftp"),
            pytest.param("file:///etc/passwd", None, id="file"),
            pytest.param(
                "http://user:pw@example.com/",
                "must not carry credentials (user:password@)",
                id="credentials",
            ),
            pytest.param("http://example.com/#frag", "must not have a #fragment", id="fragment"),
            pytest.param(
                "http://exa mple.com/",
                "must not contain spaces or control characters",
                id="space",
            ),
            pytest.param("http:///path-only", "must name a host", id="no-host"),
            pytest.param("http://example.com:99999/", "has a port outside 1-65535", id="bad-port"),
            pytest.param("http://[::1/", "is not a valid URL", id="unparsable"),
            pytest.param("http://a..b/", "has a host name that is not valid", id="empty-label"),
            pytest.param("http://xn--/", "has a host name that is not valid", id="bad-punycode"),
            pytest.param(
                f"http://{LONG_HOST}/",
                "has a host name longer than 253 characters",
                id="host-of-254-characters",
            ),
            pytest.param(
                f"http://{'a' * 64}.test/",
                "has a host name with a label longer than 63 characters",
                id="label-of-64-characters",
            ),
        ],
    )
    def test_response_400_on_an_unsafe_url(
        self, admin: TestClient, url: str, message: str | None
    ) -> None:
        response = admin.post("/api/destinations", json={**BILLING, "url": url})
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        errors = response.json()["errors"]
        assert [error["field"] for error in errors] == ["url"]
        if message is not None:
            assert errors[0]["message"] == message
        assert admin.get("/api/destinations/billing").status_code == 404

    @pytest.mark.parametrize(
        "fields",
        [
            pytest.param({"name": "Billing"}, id="upper-case-name"),
            pytest.param({"name": "-x"}, id="name-starts-with-dash"),
            pytest.param({"timeout_seconds": 0}, id="zero-timeout"),
            pytest.param({"timeout_seconds": 61}, id="long-timeout"),
            pytest.param({"retry": {"max_attempts": 0}}, id="no-attempts"),
            pytest.param({"circuit_breaker": {"cooldown_seconds": 0}}, id="no-cooldown"),
            pytest.param({"signing_secret": "whsec_x"}, id="unknown-field"),
        ],
    )
    def test_response_400_on_invalid_settings(
        self, admin: TestClient, fields: dict[str, Any]
    ) -> None:
        response = admin.post("/api/destinations", json={**BILLING, **fields})
        assert response.status_code == 400
        assert response.json()["type"] == VALIDATION

    def test_response_403_without_the_admin_scope(self, client: TestClient) -> None:
        response = client.post("/api/destinations", json=BILLING, headers=ALICE.headers)
        assert response.status_code == 403
        assert response.json()["type"] == "urn:contract-api:problem:insufficient-scope"


@pytest.fixture
def guarded(client_with: ClientWith) -> Iterator[TestClient]:
    """An app whose gateway may only call hosts on its allow-list."""
    allowed = ["billing.example.com", "*.corp.test", "127.0.0.1:9"]
    with client_with(dispatch_allowed_hosts=allowed, headers=ADMIN.headers) as client:
        yield client


def seconds(body: dict[str, Any]) -> list[Any]:
    return [
        body["timeout_seconds"],
        body["retry"]["initial_backoff_seconds"],
        body["retry"]["max_backoff_seconds"],
        body["circuit_breaker"]["cooldown_seconds"],
    ]


class TestSecondsAreAnsweredAsFloats:
    """Whole seconds sent as integers are answered as ``5.0`` by every method, on every
    backend (SQLite's RETURNING handed back the integer that was bound: POST and PATCH
    said ``5`` where GET said ``5.0``)."""

    def test_by_create_update_read_and_list(self, admin: TestClient) -> None:
        created = create(
            admin,
            timeout_seconds=5,
            retry={"initial_backoff_seconds": 1, "max_backoff_seconds": 4},
            circuit_breaker={"cooldown_seconds": 30},
        )
        patched = admin.patch(
            "/api/destinations/billing",
            json={"timeout_seconds": 6, "circuit_breaker": {"cooldown_seconds": 31}},
            headers=MERGE_PATCH,
        ).json()
        read = admin.get("/api/destinations/billing").json()
        listed = admin.get("/api/destinations").json()["items"][0]
        assert seconds(created) == [5.0, 1.0, 4.0, 30.0]
        assert seconds(patched) == seconds(read) == seconds(listed) == [6.0, 1.0, 4.0, 31.0]
        for body in (created, patched, read, listed):
            assert [type(value) for value in seconds(body)] == [float] * 4, body

    def test_the_defaults_too(self, admin: TestClient) -> None:
        created = create(admin)
        assert [type(value) for value in seconds(created)] == [float] * 4, created


class TestHostAllowList:
    @pytest.mark.parametrize(
        "url",
        [
            "https://billing.example.com/hooks",
            "https://BILLING.example.com/hooks",
            "http://a.corp.test/x",
            "http://a.b.corp.test:8080/x",
            "http://127.0.0.1:9/hook",
        ],
    )
    def test_hosts_on_the_list_are_accepted(self, guarded: TestClient, url: str) -> None:
        response = guarded.post("/api/destinations", json={"name": "x", "url": url})
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize(
        ("url", "host"),
        [
            ("http://169.254.169.254/latest/meta-data", "169.254.169.254:80"),
            ("http://corp.test/x", "corp.test:80"),
            ("https://billing.example.com.evil.test/", "billing.example.com.evil.test:443"),
            ("http://127.0.0.1:6379/", "127.0.0.1:6379"),  # the port is what is refused
            ("http://localhost:9/", "localhost:9"),
            ("http://[::1]:9/", "[::1]:9"),
        ],
    )
    def test_other_hosts_are_refused(self, guarded: TestClient, url: str, host: str) -> None:
        response = guarded.post("/api/destinations", json={"name": "x", "url": url})
        assert_problem(
            response,
            validation_problem("/api/destinations", ("url", f"{host} is not on the allow-list")),
        )

    def test_a_change_of_url_is_checked_too(self, guarded: TestClient) -> None:
        guarded.post("/api/destinations", json={"name": "x", "url": "http://a.corp.test/"})
        response = guarded.patch(
            "/api/destinations/x",
            json={"url": "http://10.0.0.1/"},
            headers={"content-type": "application/merge-patch+json"},
        )
        assert response.status_code == 400
        assert guarded.get("/api/destinations/x").json()["url"] == "http://a.corp.test/"


class TestListDestinations:
    def test_pages_by_name(self, admin: TestClient) -> None:
        for name in ("c", "a", "d", "b", "e"):
            create(admin, name=name)
        seen: list[str] = []
        url = "/api/destinations?limit=2"
        while True:
            response = admin.get(url)
            assert response.status_code == 200
            page = response.json()
            seen += [item["name"] for item in page["items"]]
            if page["next_cursor"] is None:
                assert "link" not in response.headers
                break
            assert response.headers["link"].endswith('; rel="next"')
            url = response.headers["link"].split(";")[0].strip("<>")
        assert seen == ["a", "b", "c", "d", "e"]

    def test_response_400_on_a_forged_cursor(self, admin: TestClient) -> None:
        # Shaped like a cursor (the spec's pattern), but not signed by this service.
        response = admin.get("/api/destinations?cursor=Zm9yZ2Vk.c2lnbmVk")
        assert response.status_code == 400
        assert response.json()["type"] == "urn:contract-api:problem:invalid-cursor"

    def test_response_400_on_a_string_that_is_no_cursor(self, admin: TestClient) -> None:
        response = admin.get("/api/destinations?cursor=forged")
        assert response.status_code == 400
        assert response.json()["type"] == "urn:contract-api:problem:validation-error"
        assert response.json()["errors"][0]["field"] == "cursor"


class TestGetDestination:
    def test_response_404(self, admin: TestClient) -> None:
        assert_problem(
            admin.get("/api/destinations/nope"),
            {
                "type": "about:blank",
                "title": "Not Found",
                "status": 404,
                "detail": "There is no destination 'nope'.",
                "instance": "/api/destinations/nope",
            },
        )

    def test_response_400_on_a_name_that_cannot_exist(self, admin: TestClient) -> None:
        assert admin.get("/api/destinations/Not_Valid").status_code == 400


class TestUpdateDestination:
    def test_merge_patch_keeps_absent_fields(self, admin: TestClient) -> None:
        before = create(admin, retry={"max_attempts": 4})
        response = admin.patch(
            "/api/destinations/billing",
            json={"enabled": False, "retry": {"initial_backoff_seconds": 0.5}},
            headers=MERGE_PATCH,
        )
        assert response.status_code == 200, response.text
        after = response.json()
        assert after["enabled"] is False
        assert after["retry"] == {
            "max_attempts": 4,
            "initial_backoff_seconds": 0.5,
            "max_backoff_seconds": 2,
        }
        assert after["url"] == before["url"]
        assert after["created_at"] == before["created_at"]
        assert after["updated_at"] >= before["updated_at"]
        assert admin.get("/api/destinations/billing").json() == after

    def test_response_400_on_an_empty_patch(self, admin: TestClient) -> None:
        create(admin)
        response = admin.patch("/api/destinations/billing", json={}, headers=MERGE_PATCH)
        assert response.status_code == 400

    def test_the_name_cannot_change(self, admin: TestClient) -> None:
        create(admin)
        response = admin.patch(
            "/api/destinations/billing", json={"name": "other"}, headers=MERGE_PATCH
        )
        assert response.status_code == 400

    def test_response_404(self, admin: TestClient) -> None:
        response = admin.patch(
            "/api/destinations/nope", json={"enabled": True}, headers=MERGE_PATCH
        )
        assert response.status_code == 404


class TestDeleteDestination:
    def test_response_204_then_404(self, admin: TestClient) -> None:
        create(admin)
        assert admin.delete("/api/destinations/billing").status_code == 204
        assert admin.get("/api/destinations/billing").status_code == 404
        assert admin.delete("/api/destinations/billing").status_code == 404

    def test_response_403_without_the_admin_scope(self, admin: TestClient) -> None:
        create(admin)
        response = admin.delete("/api/destinations/billing", headers=ALICE.headers)
        assert response.status_code == 403
        assert admin.get("/api/destinations/billing").status_code == 200


def test_anonymous_calls_are_refused(anonymous: TestClient) -> None:
    response: httpx.Response = anonymous.get("/api/destinations")
    assert response.status_code == 401
