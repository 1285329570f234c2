"""The pipeline's own stages between the edge and Connexion's (see ``pipeline.py``)."""

from __future__ import annotations

from functools import partial

from connexion.middleware.abstract import ROUTING_CONTEXT
from connexion.middleware.routing import RoutingMiddleware, RoutingOperation
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIConfig
from starlette.routing import Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.http.problems import BadRequest, PayloadTooLarge
from server.http.scope import request_info


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413.

    A declared ``Content-Length`` over the limit is refused before a byte of the body is
    read; a chunked body is counted as it streams and refused when it crosses the limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise BadRequest("Content-Length is not a number.") from None
                break
        if declared is not None:
            if declared > self.max_bytes:
                raise PayloadTooLarge(self._detail())
            await self.app(scope, receive, send)
            return
        await self.app(scope, self._counting(receive), send)

    def _detail(self) -> str:
        return f"The request body is larger than the limit of {self.max_bytes} bytes."

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise PayloadTooLarge(self._detail())
            return message

        return counted


def body_limit(max_bytes: int) -> partial:
    return partial(BodyLimit, max_bytes=max_bytes)


class StrictRouting(RoutingMiddleware):
    """Connexion's routing, without Starlette's slash redirects: ``/api/users/`` is not
    an operation of the spec, so it is a 404 problem like any unknown path, never a 307
    whose ``Location`` is built from the request's ``Host`` header.

    Paths without parameters (``/api/hello``, ``/api/process_data``, the lists) are looked
    up in one dict built from Connexion's own routes, where Starlette's router would try
    each route's regex in turn: the same operation (``tests/unit/test_routing.py``), found
    at once. Every other path, and any request under a ``root_path``, goes through
    Connexion's router.
    """

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self.router.redirect_slashes = False
        self._static: dict[tuple[str, str], dict[str, str]] = {}
        self._heads: dict[str, ASGIApp] = {}

    def link(self, heads: dict[str, ASGIApp]) -> None:
        """Call ``heads[operationId]`` (its chain of operation objects) for a path of the
        dict, instead of the next stage (``pipeline.link_operations``)."""
        self._heads = dict(heads)

    def add_api(self, *args: object, **kwargs: object) -> None:
        super().add_api(*args, **kwargs)  # type: ignore[arg-type]
        self._static.clear()
        for mount in self.router.routes:  # each API is a Router mounted at its base path
            if isinstance(mount, Mount):
                mount.app.redirect_slashes = False  # type: ignore[attr-defined]
                self._index(mount)

    def _index(self, mount: Mount) -> None:
        routes = mount.routes
        for route in routes:
            if not isinstance(route, Route) or route.param_convertors:
                continue
            operation = route.app
            for method in route.methods or ():
                probe = {"type": "http", "path": route.path, "method": method}
                # Starlette takes the first route that matches in full: a template listed
                # earlier (``/users/{id}`` before ``/users/me``) keeps the path.
                first = next((r for r in routes if r.matches(probe)[0] is Match.FULL), None)
                if (
                    first is route
                    and isinstance(operation, RoutingOperation)
                    and operation.operation_id is not None
                ):
                    self._static.setdefault(
                        (method, mount.path + route.path),
                        {"api_base_path": mount.path, "operation_id": operation.operation_id},
                    )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            routing = self._static.get((scope["method"], scope["path"]))
            if routing is not None:
                scope.setdefault("path_params", {})
                scope.setdefault("extensions", {})[ROUTING_CONTEXT] = dict(routing)
                head: ASGIApp = self._heads.get(routing["operation_id"]) or self.app
                await head(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class Docs(SwaggerUIMiddleware):
    """Connexion's Swagger UI and spec routes, consulted only for paths that can be theirs.

    The stock middleware runs every request through a Starlette router first; API calls
    never match it, so they skip straight to the next app on a cheap prefix test.
    """

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self._prefixes: tuple[str, ...] = ()

    def add_api(self, specification, base_path=None, arguments=None, **kwargs):  # type: ignore[no-untyped-def]
        super().add_api(specification, base_path=base_path, arguments=arguments, **kwargs)
        config = SwaggerUIConfig(
            kwargs.get("swagger_ui_options"), oas_version=specification.version
        )
        base = (base_path if base_path is not None else specification.base_path).rstrip("/")
        spec_stem = config.openapi_spec_path.rsplit(".", 1)[0]  # serves .json and .yaml
        self._prefixes = (
            *self._prefixes,
            base + config.swagger_ui_path.rstrip("/"),
            base + spec_stem,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self._prefixes):
            await self.app(scope, receive, send)
            return
        info = request_info(scope)
        if info is not None:
            info.operation = "docs"  # Swagger UI and the spec, for the request metrics
        await super().__call__(scope, receive, send)
