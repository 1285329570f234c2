"""``server.http.stages.StrictRouting``: its dict of paths without parameters answers
exactly what Connexion's router answers, for every operation of the spec; and
``pipeline.link_operations`` chains each operation's stages."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from connexion.middleware.abstract import ROUTING_CONTEXT
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.resolver import RelativeResolver
from connexion.spec import Specification
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from server.app import SPEC_DIR, SPEC_FILE, create_app
from server.dispatch import Dispatcher
from server.http.pipeline import link_operations
from server.http.stages import StrictRouting
from server.validation import RequestValidation
from tests.config import make_settings
from tests.identities import ALICE

SPEC = Specification.load(SPEC_DIR / SPEC_FILE)


class Seen:
    """The next app: remembers the routing context it was called with."""

    def __init__(self) -> None:
        self.routing: dict[str, Any] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.routing = dict(scope.get("extensions", {}).get(ROUTING_CONTEXT, {}))


def routed(method: str, path: str, *, fast: bool) -> object:
    """The routing context the next app sees, or what the router raised (a 405)."""
    seen = Seen()
    routing = StrictRouting(seen)
    routing.add_api(SPEC, resolver=RelativeResolver("server.handlers"))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "app": object(),  # as under ConnexionMiddleware: Starlette raises, the edge answers
    }
    call = routing.__call__ if fast else RoutingMiddleware.__call__.__get__(routing)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError(f"the router answered itself: {message}")

    try:
        asyncio.run(call(scope, receive, send))
    except Exception as exc:  # compared below, not hidden
        return repr(exc)
    return seen.routing


OPERATIONS = [
    (method.upper(), SPEC.base_path + path)
    for path, item in SPEC.raw["paths"].items()
    for method in item
    if method in {"get", "put", "post", "patch", "delete"}
]


def test_paths_without_parameters_are_in_the_dict() -> None:
    routing = StrictRouting(Seen())
    routing.add_api(SPEC, resolver=RelativeResolver("server.handlers"))
    static = {(m, p) for m, p in OPERATIONS if "{" not in p}
    assert static  # hello, process_data, the lists...
    assert static | {("HEAD", p) for m, p in static if m == "GET"} == set(routing._static)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_is_routed_as_connexion_routes_it(method: str, path: str) -> None:
    concrete = re.sub(r"\{[^}]+\}", "1", path)  # /users/{user_id} -> /users/1
    fast = routed(method, concrete, fast=True)
    assert fast == routed(method, concrete, fast=False)
    assert isinstance(fast, dict) and fast["operation_id"] is not None


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/hello/"), ("POST", "/api/hello"), ("GET", "/api/nowhere"), ("HEAD", "/api")],
)
def test_what_no_operation_has_falls_through_to_connexion(method: str, path: str) -> None:
    assert routed(method, path, fast=True) == routed(method, path, fast=False)


def _chain(head: Any) -> list[str]:
    names = []
    while head is not None:
        names.append(type(head).__name__)
        head = getattr(head, "next_app", None)
    return names


@pytest.mark.parametrize(
    ("validate_responses", "expected"),
    [
        (False, ["AccessControlOperation", "CompiledValidationOperation", "Endpoint"]),
        (
            True,
            [
                "AccessControlOperation",
                "CompiledValidationOperation",
                "ResponseValidationOperation",
                "Endpoint",
            ],
        ),
    ],
)
def test_each_operation_is_one_chain_of_its_stages(
    tmp_path: Path, validate_responses: bool, expected: list[str]
) -> None:
    app = create_app(
        make_settings(f"sqlite:///{tmp_path / 'x.db'}", validate_responses=validate_responses)
    )
    stage = app.middleware.app
    while not isinstance(stage, StrictRouting):
        stage = stage.app
    assert {id_.rpartition(".")[2] for id_ in stage._heads} == {
        operation["operationId"]
        for item in SPEC.raw["paths"].values()
        for method, operation in item.items()
        if method in {"get", "put", "post", "patch", "delete"}
    }
    for head in stage._heads.values():
        assert _chain(head) == expected


def test_an_unknown_stage_between_routing_and_dispatch_stops_the_start() -> None:
    class Stranger:
        def __init__(self, app: Any) -> None:
            self.app = app

    routing = StrictRouting(Stranger(Dispatcher()))
    with pytest.raises(RuntimeError, match="between routing and dispatch"):
        link_operations(routing)


def _routing_of(app: Any) -> StrictRouting:
    stage = app.middleware.app
    while not isinstance(stage, StrictRouting):
        stage = stage.app
    return stage


def test_an_operation_a_stage_lacks_is_not_linked_past_it(tmp_path: Path) -> None:
    """Were AccessControl to have no object for an operation, linking must not cut it
    out of that operation's chain: that operation stays on the stage-by-stage path."""
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}", validate_responses=False))
    routing = _routing_of(app)
    access = routing.app
    operation_id = "server.handlers.users.list_users"
    for apis in access.apis.values():
        for api in apis:
            del api.operations[operation_id]
    link_operations(app.middleware.app)
    assert operation_id not in routing._heads
    assert routing._heads  # the others are linked, each from its access control on
    assert {type(head).__name__ for head in routing._heads.values()} == {"AccessControlOperation"}


def test_a_stage_with_nothing_to_do_is_left_out_not_linked(tmp_path: Path) -> None:
    """Response validation switched off hands every operation to its next app: the chains
    skip it, and each still ends at its own endpoint (not another operation's)."""
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}", validate_responses=False))
    stage = _routing_of(app)
    while not isinstance(stage, Dispatcher):
        stage = stage.app
        if isinstance(stage, RequestValidation):
            break
    switched_off = ResponseValidationMiddleware(stage.app)
    switched_off.add_api(
        SPEC, resolver=RelativeResolver("server.handlers"), validate_responses=False
    )
    stage.app = switched_off
    link_operations(app.middleware.app)
    for operation_id, head in _routing_of(app)._heads.items():
        chain = _chain(head)
        assert chain[-1] == "Endpoint" and "LifespanMiddleware" not in chain
        end = head
        while getattr(end, "next_app", None) is not None:
            end = end.next_app
        assert end.operation_id == operation_id
    with TestClient(app, headers=ALICE.headers) as client:
        assert client.get("/api/hello").json() == {"message": "Hello, World!"}
        assert client.get("/api/health/live").json() == {"status": "alive"}
