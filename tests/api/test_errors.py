"""Errors that belong to no single operation: unknown paths, server faults, the docs."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from server.services import processing
from tests.api.helpers import assert_problem, validation_problem
from tests.identities import ADMIN, ALICE, Identity


def not_found(path: str) -> dict[str, object]:
    return {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": f"No resource at {path}.",
        "instance": path,
    }


class TestUnknownPath:
    @pytest.mark.parametrize("path", ["/api/nothing", "/", "/elsewhere/hello"])
    def test_response_404(self, client: TestClient, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 404
        assert_problem(response, not_found(path))

    @pytest.mark.parametrize(
        ("method", "path", "identity"),
        [
            pytest.param("GET", "/api/clients/", ADMIN, id="get-clients"),
            pytest.param("POST", "/api/users/", ALICE, id="post-users"),
            pytest.param("GET", "/api/hello/", None, id="get-hello"),
        ],
    )
    def test_a_trailing_slash_is_a_404_not_a_redirect(
        self, client: TestClient, method: str, path: str, identity: Identity | None
    ) -> None:
        # Starlette redirected these with a 307 whose Location came from the Host header.
        response = client.request(
            method,
            path,
            json={"name": "Ali"} if method == "POST" else None,
            headers={"Host": "evil.example", **(identity.headers if identity else {})},
            follow_redirects=False,
        )
        assert "location" not in response.headers
        assert_problem(response, not_found(path))

    def test_long_path_is_not_echoed_whole(self, client: TestClient) -> None:
        path = "/api/" + "x" * 5000
        response = client.get(path)
        assert response.status_code == 404
        assert len(response.json()["detail"]) < 300


class TestQueryString:
    @pytest.mark.parametrize("path", ["/api/hello", "/api/users", "/api/users/1"])
    def test_a_parameter_without_a_name_is_named_as_the_query(
        self, client: TestClient, path: str
    ) -> None:
        # It was reported as the field "body", which the request may not even have.
        response = client.get(f"{path}?=1")
        assert response.status_code == 400
        assert_problem(
            response, validation_problem(path, ("query", "has a parameter without a name"))
        )


class TestServerFault:
    def test_unexpected_error_is_a_bare_500_problem(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def explode(**_: int) -> dict[str, int]:
            raise RuntimeError("secret internal state")

        monkeypatch.setattr(processing, "process_record", explode)
        response = client.post(
            "/api/process_data", json={"user_id": 1, "item_id": 1, "quantity": 1}
        )
        assert response.status_code == 500
        assert_problem(
            response,
            {
                "type": "about:blank",
                "title": "Internal Server Error",
                "status": 500,
                "detail": "The server failed to handle this request; the failure was logged.",
                "instance": "/api/process_data",
            },
        )
        assert "secret" not in response.text and "Traceback" not in response.text


class TestDocs:
    def test_spec_is_served_as_json(self, client: TestClient) -> None:
        response = client.get("/api/openapi.json")
        assert response.status_code == 200
        spec = response.json()
        assert spec["openapi"] == "3.0.3"
        assert {"/hello", "/process_data"} <= set(spec["paths"])

    def test_swagger_ui_is_served_with_local_assets(self, client: TestClient) -> None:
        page = client.get("/api/ui/")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert "openapi.json" in page.text
        assert "//" not in "".join(
            line for line in page.text.splitlines() if "src=" in line or "href=" in line
        ).replace("http://testserver", ""), "assets must not come from a CDN"
        for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
            served = client.get(f"/api/ui/{asset}")
            assert served.status_code == 200, asset
            assert len(served.content) > 1000

    def test_ui_without_slash_redirects(self, client: TestClient) -> None:
        response = client.get("/api/ui", follow_redirects=False)
        assert response.status_code in (301, 302, 307, 308)
        assert response.headers["location"].endswith("/api/ui/")
