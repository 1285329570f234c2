"""The spec's examples are what the service really answers, and every example fits its schema.

Swagger UI and Prism's mock show the examples to people who have not called the service
yet: each shared error response's example is checked against the answer the service gives
in that situation (its ``instance`` left out: shared responses serve many paths), and every
example in the document is validated against the schema it illustrates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest
from starlette.testclient import TestClient

from server.validation import openapi_to_json_schema
from tests.config import ClientWith
from tests.contract.test_spec import load, resolve
from tests.identities import ALICE

SPEC = load()
RESPONSES: dict[str, Any] = SPEC["components"]["responses"]
TOKEN = "/api/oauth/token"


def _user(client: TestClient, **fields: Any) -> int:
    body = {"name": "Ada Lovelace", "email": "ada@example.com", **fields}
    created = client.post("/api/users", json=body, headers=AS)
    assert created.status_code == 201, created.text
    user_id: int = created.json()["id"]
    return user_id


def _idempotency_key_reused(client: TestClient) -> Any:
    key = {**AS, "Idempotency-Key": "order-1042"}
    client.post("/api/users", json={"name": "Ada", "email": "a1@example.com"}, headers=key)
    return client.post("/api/users", json={"name": "Ada", "email": "a2@example.com"}, headers=key)


# How to get each shared response from the service (``client`` calls as nobody; ``AS``
# says who else).
AS = ALICE.headers
SCENARIOS: dict[str, Callable[[TestClient], Any]] = {
    "Unauthorized": lambda c: c.get("/api/users"),
    "Forbidden": lambda c: c.get("/api/clients", headers=AS),
    "InvalidClient": lambda c: c.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": "c_0", "client_secret": "x"},
    ),
    "OAuthError": lambda c: c.post(
        TOKEN,
        data={"grant_type": "client_credentials", "scope": "admin"},
        auth=(ALICE.client_id, ALICE.secret),
    ),
    "BadRequest": lambda c: c.post(
        "/api/process_data", json={"user_id": 1, "item_id": 42, "quantity": 0}, headers=AS
    ),
    "NotFound": lambda c: c.get("/api/users/42", headers=AS),
    "MethodNotAllowed": lambda c: c.delete("/api/hello"),
    "PayloadTooLarge": lambda c: c.post(
        "/api/process_data",
        content=b"{" + b" " * (1024 * 1024) + b"}",
        headers={**AS, "Content-Type": "application/json"},
    ),
    "UnsupportedMediaType": lambda c: c.post(
        "/api/process_data", content=b"x", headers={**AS, "Content-Type": "text/plain"}
    ),
    "Conflict": lambda c: (
        _user(c),
        c.post("/api/users", json={"name": "Ada", "email": "ada@example.com"}, headers=AS),
    )[1],
    "PreconditionFailed": lambda c: c.put(
        f"/api/users/{_user(c)}", json={"name": "Ada King"}, headers={**AS, "If-Match": '"7"'}
    ),
    "IdempotencyKeyReused": _idempotency_key_reused,
}
# Answered outside the app (the edge, the rate limiter, a database that is down): their own
# tests check them; the example is checked here against the wording those tests pin.
ELSEWHERE = {"URITooLong", "TooManyRequests", "ServiceUnavailable"}


def test_every_shared_response_has_a_scenario_or_its_own_test() -> None:
    assert set(RESPONSES) == set(SCENARIOS) | ELSEWHERE


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_example_is_the_real_answer(name: str, anonymous: TestClient) -> None:
    response = SCENARIOS[name](anonymous)
    declared = RESPONSES[name]
    (media_type, content), *_ = declared["content"].items()
    assert response.headers["content-type"] == media_type
    body = response.json()
    assert body.pop("instance").startswith("/api/")
    assert content["example"] == body
    for header in declared.get("headers", {}):
        assert header.lower() in response.headers, f"{name} answers without {header}"


def test_the_rate_limit_example_matches_the_limiter(client_with: ClientWith) -> None:
    with client_with(rate_limit="1/minute", headers=ALICE.headers) as client:
        client.get("/api/users")
        refused = client.get("/api/users")
    assert refused.status_code == 429
    body = refused.json()
    body.pop("instance")
    assert RESPONSES["TooManyRequests"]["content"]["application/problem+json"]["example"] == body


def _examples(node: Any, path: str = "#") -> Iterator[tuple[str, Any, Any]]:
    """(where, example, schema) for every example in the document."""
    if isinstance(node, dict):
        schema = node.get("schema")
        if "example" in node and schema is not None:  # a media type, parameter or header
            yield path, node["example"], schema
        elif "example" in node and ("type" in node or "$ref" in node or "allOf" in node):
            yield path, node["example"], node  # a schema's own example
        for name, example in (node.get("examples") or {}).items():
            if isinstance(example, dict) and "value" in example and schema is not None:
                yield f"{path}/examples/{name}", example["value"], schema
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from _examples(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _examples(value, f"{path}/{index}")


def _inline(node: Any) -> Any:
    """The schema with every $ref resolved (the document has no recursive schemas)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(resolve(SPEC, node))
        return {key: _inline(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(value) for value in node]
    return node


EXAMPLES = list(_examples(SPEC))


def test_the_document_has_examples() -> None:
    assert len(EXAMPLES) > 40


@pytest.mark.parametrize(("where", "example", "schema"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_every_example_fits_its_schema(where: str, example: Any, schema: Any) -> None:
    jsonschema.validate(example, openapi_to_json_schema(_inline(schema)))
