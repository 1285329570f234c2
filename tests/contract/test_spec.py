"""The spec itself: valid OpenAPI 3.0.3, and every operation documents its errors properly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

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
