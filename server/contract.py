"""Facts the spec states, read from it once for the code that needs them.

``spec/openapi.yaml`` is the single source of truth: the scopes an operation can require
are the OAuth2 scheme's (its ``Scope`` schema lists the same names, which
``tests/contract/test_spec.py`` checks), so adding a scope is one edit of the spec; the
defaults of a destination are its input schemas' ``default:``s.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SPEC_DIR = Path(__file__).resolve().parent.parent / "spec"
SPEC_FILE = "openapi.yaml"
ADMIN = "admin"  # the scope that implies every other one


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The spec as written (no ``$ref`` resolved)."""
    loaded: dict[str, Any] = yaml.safe_load((SPEC_DIR / SPEC_FILE).read_text(encoding="utf-8"))
    return loaded


def scopes() -> tuple[str, ...]:
    """Every scope, in the spec's order (the OAuth2 client-credentials flow's)."""
    scheme = document()["components"]["securitySchemes"]["OAuth2"]
    names = tuple(scheme["flows"]["clientCredentials"]["scopes"])
    if ADMIN not in names:
        raise RuntimeError(f"the spec's OAuth2 scopes lack {ADMIN!r}")
    return names


def schema(name: str) -> dict[str, Any]:
    """A component schema as written."""
    found: dict[str, Any] = document()["components"]["schemas"][name]
    return found


def defaults(schema: str) -> dict[str, Any]:
    """The ``default:`` of each property of a component schema: what a create that leaves
    a field out gets (the generated client sends the same values)."""
    properties = document()["components"]["schemas"][schema].get("properties", {})
    return {name: spec["default"] for name, spec in properties.items() if "default" in spec}
