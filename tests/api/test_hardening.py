"""Security headers on every answer, and CORS: off by default, an allow-list when set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.config import make_settings

ORIGIN = "https://app.example"


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

    def test_hsts_in_production(self, database_url: str) -> None:
        settings = make_settings(database_url, environment="production")
        with TestClient(create_app(settings)) as client:
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
    def browser(self, settings: Settings) -> Iterator[TestClient]:
        with TestClient(create_app(settings)) as client:
            yield client

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
