"""POST /api/process_data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.settings import Settings
from tests.api.helpers import assert_problem, validation_problem
from tests.config import make_settings

URL = "/api/process_data"
VALID = {"user_id": 1, "item_id": 42, "quantity": 3}


class TestProcessData:
    def test_response_200_doubles_quantity(self, client: TestClient) -> None:
        response = client.post(URL, json=VALID)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "status": "success",
            "message": "Data processed",
            "record_id": 1,
            "result": {"user_id": 1, "item_id": 42, "quantity": 6},
        }
        assert response.headers["location"] == "/api/records/1"

    def test_response_200_at_upper_bounds(self, client: TestClient) -> None:
        body = {"user_id": 2147483647, "item_id": 2147483647, "quantity": 1000000}
        response = client.post(URL, json=body)
        assert response.status_code == 200
        assert response.json()["result"] == {**body, "quantity": 2000000}

    def test_charset_utf8_is_accepted(self, client: TestClient) -> None:
        response = client.post(
            URL,
            content=b'{"user_id": 1, "item_id": 2, "quantity": 3}',
            headers={"content-type": "application/json; charset=UTF-8"},
        )
        assert response.status_code == 200

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            pytest.param(
                {"item_id": 1, "quantity": 1}, [("user_id", "is required")], id="missing-field"
            ),
            pytest.param(
                {},
                [
                    ("item_id", "is required"),
                    ("quantity", "is required"),
                    ("user_id", "is required"),
                ],
                id="empty-object",
            ),
            pytest.param(
                {**VALID, "quantity": "3"}, [("quantity", "must be of type integer")], id="string"
            ),
            pytest.param(
                {**VALID, "quantity": 1.5}, [("quantity", "must be of type integer")], id="float"
            ),
            pytest.param(
                {**VALID, "quantity": True}, [("quantity", "must be of type integer")], id="bool"
            ),
            pytest.param(
                {**VALID, "quantity": None}, [("quantity", "must be of type integer")], id="null"
            ),
            pytest.param(
                {**VALID, "quantity": 0}, [("quantity", "must be at least 1")], id="zero-quantity"
            ),
            pytest.param(
                {**VALID, "quantity": -5}, [("quantity", "must be at least 1")], id="negative"
            ),
            pytest.param(
                {**VALID, "quantity": 1000001},
                [("quantity", "must be at most 1000000")],
                id="quantity-over-max",
            ),
            pytest.param(
                {**VALID, "user_id": 2147483648},
                [("user_id", "must be at most 2147483647")],
                id="user-id-over-int32",
            ),
            pytest.param(
                {**VALID, "note": "x" * 10000}, [("note", "is not allowed")], id="extra-property"
            ),
            pytest.param([VALID], [("body", "must be of type object")], id="array-body"),
            pytest.param("hello", [("body", "must be of type object")], id="string-body"),
        ],
    )
    def test_response_400_names_the_field(
        self, client: TestClient, body: Any, errors: list[tuple[str, str]]
    ) -> None:
        response = client.post(URL, json=body)
        assert response.status_code == 400
        assert_problem(response, validation_problem(URL, *errors))
        assert len(response.content) < 2000, "a large payload must never be echoed back"

    def test_response_400_when_body_missing(self, client: TestClient) -> None:
        response = client.post(URL, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert_problem(response, validation_problem(URL, ("body", "a JSON body is required")))

    def test_response_400_when_body_and_content_type_missing(self, client: TestClient) -> None:
        response = client.post(URL)
        assert response.status_code == 400
        assert_problem(response, validation_problem(URL, ("body", "a JSON body is required")))

    @pytest.mark.parametrize(
        "raw",
        [b"{", b'{"user_id": 1,}', b"nope", b'{"a": NaN}'],
        ids=["open", "comma", "word", "nan"],
    )
    def test_response_400_on_malformed_json(self, client: TestClient, raw: bytes) -> None:
        response = client.post(URL, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert problem["type"] == "urn:contract-api:problem:malformed-json"
        assert problem["title"] == "Malformed JSON body"
        assert problem["status"] == 400
        assert problem["instance"] == URL
        assert problem["detail"].startswith("The request body is not valid JSON: ")

    def test_response_400_on_body_that_is_not_utf8(self, client: TestClient) -> None:
        raw = '{"user_id": 1, "item_id": 1, "quantity": 1, "n": "é"}'.encode("latin-1")
        response = client.post(URL, content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert_problem(
            response,
            {
                "type": "urn:contract-api:problem:invalid-encoding",
                "title": "Invalid body encoding",
                "status": 400,
                "detail": "The request body is not valid UTF-8.",
                "instance": URL,
            },
        )

    def test_response_400_on_garbage_content_length(self, client: TestClient) -> None:
        response = client.post(
            URL, content=b"{}", headers={"content-type": "application/json", "content-length": "x"}
        )
        assert response.status_code == 400
        assert response.json()["detail"] == "Content-Length is not a number."

    def test_response_405(self, client: TestClient) -> None:
        response = client.get(URL)
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert_problem(
            response,
            {
                "type": "about:blank",
                "title": "Method Not Allowed",
                "status": 405,
                "detail": "GET is not allowed here; allowed: POST",
                "instance": URL,
            },
        )

    @pytest.mark.parametrize(
        ("content_type", "detail"),
        [
            pytest.param(
                "text/plain",
                "Content-Type 'text/plain' is not accepted here; "
                "expected one of ['application/json'].",
                id="text",
            ),
            pytest.param(
                "application/x-www-form-urlencoded",
                "Content-Type 'application/x-www-form-urlencoded' is not accepted here; "
                "expected one of ['application/json'].",
                id="form",
            ),
            pytest.param(
                "application/json; charset=latin-1",
                "JSON bodies must be UTF-8 encoded.",
                id="latin-1",
            ),
        ],
    )
    def test_response_415(self, client: TestClient, content_type: str, detail: str) -> None:
        response = client.post(
            URL, content=b'{"user_id": 1}', headers={"content-type": content_type}
        )
        assert response.status_code == 415
        assert_problem(
            response,
            {
                "type": "about:blank",
                "title": "Unsupported Media Type",
                "status": 415,
                "detail": detail,
                "instance": URL,
            },
        )

    def test_response_415_when_body_has_no_content_type(self, client: TestClient) -> None:
        response = client.post(URL, content=b'{"user_id": 1}')
        assert response.status_code == 415
        assert response.json()["detail"].startswith("A request body needs a Content-Type")


class TestProcessDataBodyLimit:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return make_settings(database_url, max_body_bytes=1024)

    def expected(self) -> dict[str, Any]:
        return {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": "The request body is larger than the limit of 1024 bytes.",
            "instance": URL,
        }

    def test_response_413_on_declared_length(self, client: TestClient) -> None:
        response = client.post(
            URL, content=b" " * 2048, headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert_problem(response, self.expected())

    def test_response_413_on_chunked_body(self, client: TestClient) -> None:
        def chunks() -> Iterator[bytes]:
            for _ in range(8):
                yield b" " * 512

        response = client.post(URL, content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert_problem(response, self.expected())

    def test_body_at_the_limit_is_read(self, client: TestClient) -> None:
        body = b'{"user_id": 1, "item_id": 1, "quantity": 1}'.ljust(1024)
        response = client.post(URL, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 200
