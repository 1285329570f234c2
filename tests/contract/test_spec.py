"""The spec itself: valid OpenAPI 3.0.3, and every operation documents its errors properly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from server import contract

SPEC = Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def load() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text())


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    spec = load()
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_spec_is_valid_openapi_303() -> None:
    spec_dict, base_uri = read_from_filename(str(SPEC))
    validate(spec_dict, base_uri=base_uri)
    assert spec_dict["openapi"] == "3.0.3"


@pytest.mark.parametrize(("path", "method", "operation"), operations())
def test_operation_ids_are_short(path: str, method: str, operation: dict[str, Any]) -> None:
    assert operation["operationId"].isidentifier(), "a dotted id makes long client names"
    assert "x-openapi-router-controller" in operation


PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize(("path", "method", "operation"), operations())
def test_errors_are_problem_json(path: str, method: str, operation: dict[str, Any]) -> None:
    spec = load()
    for status, response in operation["responses"].items():
        content = resolve(spec, response).get("content", {})
        if str(status).startswith(("4", "5")):
            assert list(content) == ["application/problem+json"], (method, path, status)
            schema = content["application/problem+json"]["schema"]
            # The Problem schema itself, or one that extends it (allOf: [Problem, ...]).
            if schema != PROBLEM:
                assert resolve(spec, schema)["allOf"][0] == PROBLEM, (method, path, status)
        else:
            assert "application/problem+json" not in content, (method, path, status)


@pytest.mark.parametrize(("path", "method", "operation"), operations())
def test_bodies_document_400_413_415(path: str, method: str, operation: dict[str, Any]) -> None:
    if "requestBody" in operation:
        assert {"400", "413", "415"} <= set(map(str, operation["responses"]))


# Strings a request carries that never reach a query or a column as text: a signed cursor,
# entity tags, header values with their own patterns, the free-form dispatch payload,
# and destination URLs (the service refuses control characters in those itself).
UNSTORED_STRINGS = {"cursor", "If-Match", "If-None-Match", "payload", "url"}


def _strings(spec: dict[str, Any], node: Any, name: str) -> list[tuple[str, dict[str, Any]]]:
    node = resolve(spec, node) if isinstance(node, dict) else node
    if not isinstance(node, dict) or name in UNSTORED_STRINGS:
        return []
    found = []
    if node.get("type") == "string" and "enum" not in node:
        found.append((name, node))
    for child, value in node.get("properties", {}).items():
        found += _strings(spec, value, child)
    for key in ("items", "schema"):
        if key in node:
            found += _strings(spec, node[key], name)
    for key in ("allOf", "anyOf", "oneOf"):
        for value in node.get(key, []):
            found += _strings(spec, value, name)
    return found


@pytest.mark.parametrize(("path", "method", "operation"), operations())
def test_every_stored_or_queried_string_refuses_nul(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    # PostgreSQL stores no NUL in text: the spec says so, so clients and fuzzers know, and
    # the service's 400 for one agrees with the contract.
    spec = load()
    strings = [
        found
        for parameter in operation.get("parameters", [])
        for found in _strings(spec, resolve(spec, parameter), resolve(spec, parameter)["name"])
    ]
    for media in resolve(spec, operation.get("requestBody", {})).get("content", {}).values():
        strings += _strings(spec, media.get("schema", {}), "body")
    for name, schema in strings:
        pattern = schema.get("pattern", "")
        # A pattern without a wildcard (an unescaped "." outside a character class, \S,
        # \D, \W, \s) or a negated class matches only what it names.
        outside_classes = re.sub(r"\[(?!\^)(?:\\.|[^\]\\])*\]", "", pattern)
        names_its_characters = (
            bool(pattern)
            and "[^" not in pattern
            and not re.search(r"(?<!\\)\.|\\[SDWs]", outside_classes)
        )
        assert "\\u0000" in pattern or names_its_characters, (
            f"{method.upper()} {path}: {name} may carry NUL"
        )


def test_scopes_are_written_once() -> None:
    """The ``Scope`` schema, every operation's OAuth2 requirement and the service's list
    (``server.contract.scopes``) all name the OAuth2 scheme's scopes, and only those."""
    spec = load()
    declared = list(
        spec["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]["scopes"]
    )
    assert spec["components"]["schemas"]["Scope"]["enum"] == declared
    one = "|".join(declared)  # the token request's scope: the same names, space-separated
    token_scope = spec["components"]["schemas"]["TokenRequest"]["properties"]["scope"]
    assert token_scope["pattern"] == f"^({one})( ({one}))*$"
    assert list(contract.scopes()) == declared
    # A client may hold every scope: a new scope raises the bound of ApiClientInput.scopes.
    held = spec["components"]["schemas"]["ApiClientInput"]["properties"]["scopes"]
    assert held["maxItems"] == len(declared)
    required = {
        scope
        for _path, _method, operation in operations()
        for requirement in operation.get("security", spec.get("security", []))
        for scope in requirement.get("OAuth2", [])
    }
    assert required <= set(declared)
    assert set(declared) - required <= {contract.ADMIN}  # every other one guards something


def _defaults_under(spec: dict[str, Any], node: Any, seen: set[int]) -> list[str]:
    """Every property under ``node`` (refs followed) that declares a ``default``."""
    if isinstance(node, dict) and "$ref" in node:
        node = resolve(spec, node)
    if not isinstance(node, dict) or id(node) in seen:
        return []
    seen.add(id(node))
    found = []
    for name, prop in (node.get("properties") or {}).items():
        if isinstance(prop, dict) and "default" in prop:
            found.append(name)
        found += [f"{name}.{inner}" for inner in _defaults_under(spec, prop, seen)]
    for part in [*(node.get("allOf") or []), node.get("items")]:
        found += _defaults_under(spec, part, seen)
    return found


@pytest.mark.parametrize(
    ("path", "method", "operation"),
    [op for op in operations() if op[1] == "patch"],
    ids=[f"{m.upper()} {p}" for p, m, _ in operations() if m == "patch"],
)
def test_a_patch_body_declares_no_defaults(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    """A default in a merge-patch schema is a trap: the generated client fills it in, and
    a PATCH that meant to change one field resets the others. Defaults belong to the
    create schemas (DestinationInput, RetryPolicyInput, ...), where the service reads them."""
    spec = load()
    for media in operation["requestBody"]["content"].values():
        assert _defaults_under(spec, media["schema"], set()) == []


def test_a_new_destination_gets_the_specs_defaults() -> None:
    from server.services import destinations

    schemas = load()["components"]["schemas"]
    assert destinations.RETRY_DEFAULTS == {
        name: prop["default"] for name, prop in schemas["RetryPolicyInput"]["properties"].items()
    }
    assert destinations.BREAKER_DEFAULTS == {
        name: prop["default"] for name, prop in schemas["CircuitBreakerInput"]["properties"].items()
    }
    assert destinations.DESTINATION_DEFAULTS == {"timeout_seconds": 5, "enabled": True}
