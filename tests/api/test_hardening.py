"""Security headers on every answer, CORS (off by default, an allow-list when set), and
input that must never reach storage or come back whole."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.settings import Settings
from tests.api.helpers import VALIDATION
from tests.config import ClientWith, make_settings
from tests.conftest import BACKENDS
from tests.identities import ADMIN

ORIGIN = "https://app.example"
NUL = "must not contain NUL characters (U+0000)"


class TestSecurityHeaders:
    @pytest.mark.parametrize(
        ("method", "path", "status"),
        [
            ("GET", "/api/users", 200),
            ("GET", "/api/users/999", 404),
            ("POST", "/api/process_data", 400),
            ("GET", "/api/nowhere", 404),
        ],
    )
    def test_api_answers(self, client: TestClient, method: str, path: str, status: int) -> None:
        response = client.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == status
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["content-security-policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )
        assert response.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in response.headers  # not in test mode

    def test_unauthorized_answers_too(self, anonymous: TestClient) -> None:
        response = anonymous.get("/api/users")
        assert response.status_code == 401
        assert response.headers["x-content-type-options"] == "nosniff"

    def test_swagger_ui_keeps_its_scripts(self, client: TestClient) -> None:
        response = client.get("/api/ui/")
        assert response.status_code == 200
        assert response.headers["content-security-policy"] == "frame-ancestors 'none'"
        assert response.headers["x-frame-options"] == "DENY"

    def test_hsts_in_production(self, client_with: ClientWith) -> None:
        with client_with(environment="production") as client:
            response = client.get("/api/hello")
        assert response.headers["strict-transport-security"].startswith("max-age=")


class TestCorsByDefault:
    def test_off(self, client: TestClient) -> None:
        response = client.get("/api/users", headers={"Origin": ORIGIN})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
        preflight = client.options(
            "/api/users", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
        )
        assert "access-control-allow-origin" not in preflight.headers


class TestCorsAllowList:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return make_settings(database_url, cors_allow_origins=[ORIGIN])

    @pytest.fixture
    def browser(self, anonymous: TestClient) -> TestClient:
        """Calls as nobody, as a page of another origin does (each test sends its Origin)."""
        return anonymous

    def test_allowed_origin_preflight(self, browser: TestClient) -> None:
        response = browser.options(
            "/api/users",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-api-key, content-type",
            },
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert "x-api-key" in response.headers["access-control-allow-headers"].lower()

    def test_allowed_origin_reads_the_rate_limit_fields(self, browser: TestClient) -> None:
        response = browser.get("/api/hello", headers={"Origin": ORIGIN})
        assert response.headers["access-control-allow-origin"] == ORIGIN
        exposed = response.headers["access-control-expose-headers"].lower()
        assert "ratelimit" in exposed and "etag" in exposed

    def test_other_origin_is_not_allowed(self, browser: TestClient) -> None:
        response = browser.options(
            "/api/users",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
class TestUnstorableText:
    """A NUL character, which PostgreSQL refuses in text, is a 400 naming the field on every
    backend, before any query (it was a 500 with a traceback on PostgreSQL)."""

    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [
            pytest.param(
                "/api/users", {"name": "A\u0000B", "email": "a@b.test"}, "name", id="name"
            ),
            pytest.param(
                "/api/users", {"name": "A", "email": "a\u0000@b.test"}, "email", id="email"
            ),
            pytest.param(
                "/api/users", {"name": "A", "em\u0000ail": "a@b.test"}, None, id="property-name"
            ),
            pytest.param(
                "/api/clients", {"name": "\u0000", "scopes": ["admin"]}, "name", id="client"
            ),
        ],
    )
    def test_in_a_body(
        self, client: TestClient, path: str, body: dict[str, Any], field: str | None
    ) -> None:
        response = client.post(path, json=body, headers=ADMIN.headers)
        assert response.status_code == 400, response.text
        assert response.json()["type"] == VALIDATION
        if field is not None:
            assert {"field": field, "message": NUL} in response.json()["errors"]
        assert client.get("/api/users", headers=ADMIN.headers).json()["items"] == []

    def test_a_dispatch_payload_is_sent_as_it_is(self, client: TestClient, downstream: Any) -> None:
        # Not stored: a NUL in it is JSON like any other character, escaped on the wire.
        url = downstream.url_for("/ok")
        client.post("/api/destinations", json={"name": "ok", "url": url}, headers=ADMIN.headers)
        response = client.post("/api/dispatch", json={"payload": {"note": "a\u0000b"}})
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["body"]["received"] == {"note": "a\u0000b"}

    def test_in_a_path(self, client: TestClient) -> None:
        response = client.get("/api/clients/c_%00", headers=ADMIN.headers)
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["field"] == "client_id"

    @pytest.mark.parametrize("query", ["name_contains=%00", "email=a%00%40b.test"])
    def test_in_a_query(self, client: TestClient, query: str) -> None:
        response = client.get(f"/api/users?{query}")
        assert response.status_code == 400, response.text
        assert response.json()["errors"] == [{"field": query.split("=")[0], "message": NUL}]

    def test_in_a_form_field(self, anonymous: TestClient) -> None:
        response = anonymous.post(
            "/api/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "c_\u0000",
                "client_secret": "x",
            },
        )
        assert response.status_code == 400, response.text

    @pytest.mark.parametrize(
        "headers",
        [
            pytest.param({"X-API-Key": "c_\u0000.secret"}, id="api-key"),
            pytest.param(
                {"Authorization": "Basic " + base64.b64encode(b"c_%00:c_%00.x").decode()},
                id="basic-at-the-token-endpoint",
            ),
        ],
    )
    def test_in_a_credential(self, anonymous: TestClient, headers: dict[str, str]) -> None:
        if "Authorization" in headers:
            response = anonymous.post(
                "/api/oauth/token", data={"grant_type": "client_credentials"}, headers=headers
            )
        else:
            response = anonymous.get("/api/users", headers=headers)
        assert response.status_code == 401, response.text


class TestNothingEchoedUnbounded:
    def test_a_huge_unknown_property_name(self, client: TestClient) -> None:
        response = client.post("/api/users", json={"name": "A", "x" * 300_000: 1})
        assert response.status_code == 400
        assert len(response.content) < 2_000
        [unknown] = [e for e in response.json()["errors"] if e["message"] == "is not allowed"]
        assert len(unknown["field"]) <= 100

    def test_many_long_unknown_property_names(self, client: TestClient) -> None:
        body = {"name": "A", **{f"{n}" + "k" * 10_000: 1 for n in range(20)}}
        response = client.post("/api/users", json=body)
        assert response.status_code == 400
        assert len(response.content) < 5_000

    def test_a_long_unknown_path(self, client: TestClient) -> None:
        path = "/api/" + "p" * 60_000
        response = client.get(path)
        assert response.status_code == 404
        assert len(response.content) < 1_000
        assert response.json()["instance"] == path[:200]

    def test_a_duplicate_email_is_not_quoted(self, client: TestClient) -> None:
        email = "quoted-back@example.com"
        client.post("/api/users", json={"name": "A", "email": email})
        response = client.post("/api/users", json={"name": "B", "email": email})
        assert response.status_code == 409
        assert email not in response.text
