"""GET /api/hello."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.helpers import VALIDATION, assert_problem


class TestHello:
    def test_response_200(self, client: TestClient) -> None:
        response = client.get("/api/hello")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"message": "Hello, World!"}

    def test_head_has_no_body(self, client: TestClient) -> None:
        response = client.head("/api/hello")
        assert response.status_code == 200
        assert response.content == b""

    def test_response_405_lists_allowed_methods(self, client: TestClient) -> None:
        response = client.post("/api/hello", json={})
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD"
        assert_problem(
            response,
            {
                "type": "about:blank",
                "title": "Method Not Allowed",
                "status": 405,
                "detail": "POST is not allowed here; allowed: GET, HEAD",
                "instance": "/api/hello",
            },
        )

    def test_unknown_query_parameter_is_400(self, client: TestClient) -> None:
        response = client.get("/api/hello", params={"name": "x"})
        assert response.status_code == 400
        assert_problem(
            response,
            {
                "type": VALIDATION,
                "title": "Validation failed",
                "status": 400,
                "detail": "name: is not a known query parameter",
                "instance": "/api/hello",
                "errors": [{"field": "name", "message": "is not a known query parameter"}],
            },
        )
