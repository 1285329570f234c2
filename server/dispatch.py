"""The innermost ASGI app: calls the handler Connexion resolved for the routed operationId.

Connexion's own ``AsyncApp`` re-routes the request, re-decorates the handler on every call
(``inspect.signature`` per request) and re-reads the body. Here each operation gets an
``Endpoint`` built once at start-up from Connexion's resolved operation: it knows which
arguments the handler takes, coerces path and query parameters with Connexion's URI
parser, takes the body the validation middleware already parsed, and serialises the
result with orjson. Handlers keep Connexion's calling convention (named parameters in,
``body`` or ``(body, status[, headers])`` or a Starlette ``Response`` out), so they stay
ordinary Connexion handlers. A handler may also ask, by parameter name, for one of the
app's services (``users``, ``destinations``, ...), for the Starlette ``request``, or for
the ``principal`` that ``security.AccessControl`` authenticated.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from connexion.middleware.abstract import ROUTING_CONTEXT, RoutedAPI, RoutedMiddleware
from connexion.operations import AbstractOperation
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from server.errors import NotFound
from server.http.scope import PARSED_BODY, PRINCIPAL
from server.validation import parse_json, read_body

Handler = Callable[..., Awaitable[Any]]

_JSON_HEADERS = [(b"content-type", b"application/json")]


def _encode_headers(headers: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
    if not headers:
        return []
    return [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in headers.items()]


def _names(
    operation: AbstractOperation, location: str, accepted: Mapping[str, Any]
) -> tuple[str, ...]:
    """The spec's parameters at ``location`` that the handler takes."""
    return tuple(
        p["name"] for p in operation.parameters if p["in"] == location and p["name"] in accepted
    )


class HandlerMismatch(TypeError):
    """A handler that cannot serve its operation as the spec describes it."""


class Endpoint:
    """One operation: argument plan made at start-up, applied per request."""

    def __init__(self, operation: AbstractOperation, resources: Mapping[str, Any]) -> None:
        self.operation_id = operation.operation_id
        self.handler: Handler = operation.function
        name = str(self.operation_id).rpartition(".")[2]
        if not inspect.iscoroutinefunction(self.handler):
            raise HandlerMismatch(f"operation {name}: its handler must be `async def`")
        accepted = inspect.signature(self.handler).parameters
        spec_names = {p["name"] for p in operation.parameters}
        clash = spec_names & {*resources, "request", "principal"}
        if clash:
            raise HandlerMismatch(
                f"operation {name}: parameters {sorted(clash)} shadow app resources"
            )
        # What the composition root built for handlers (the services), asked for by name.
        self._resources = {name: value for name, value in resources.items() if name in accepted}
        self._query_defaults = {
            p["name"]: p["schema"]["default"]
            for p in operation.parameters
            if p["in"] == "query" and "default" in p.get("schema", {}) and p["name"] in accepted
        }
        self._wants_request = "request" in accepted
        self._wants_principal = "principal" in accepted
        self._body_name = operation.body_name(None) if operation.request_body else None
        if self._body_name not in accepted:
            self._body_name = None
        self._path_names = _names(operation, "path", accepted)
        self._query_names = _names(operation, "query", accepted)
        # Header "If-Match" arrives as argument if_match, as in Connexion.
        self._header_names = {
            p["name"].lower(): p["name"].replace("-", "_").lower()
            for p in operation.parameters
            if p["in"] == "header" and p["name"].replace("-", "_").lower() in accepted
        }
        self._uri_parser = operation.uri_parser_class(
            operation.parameters, operation.body_definition()
        )
        fillable = {
            *self._resources,
            *self._path_names,
            *self._query_names,
            *self._header_names.values(),
            *([self._body_name] if self._body_name else []),
            "request",
            "principal",
        }
        unfilled = [
            parameter
            for parameter, spec in accepted.items()
            if parameter not in fillable
            and spec.default is inspect.Parameter.empty
            and spec.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        ]
        if unfilled:
            raise HandlerMismatch(
                f"operation {name}: the handler's parameter(s) {', '.join(unfilled)} are "
                "neither in the spec nor resources of the app"
            )

    async def _arguments(self, scope: Scope, receive: Receive) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(self._resources)
        if self._path_names:
            resolved = self._uri_parser.resolve_path(scope.get("path_params", {}))
            kwargs.update({k: resolved[k] for k in self._path_names if k in resolved})
        if self._query_names:
            raw: dict[str, list[str]] = {}
            for key, value in parse_qsl(scope["query_string"].decode("latin-1"), True):
                raw.setdefault(key, []).append(value)
            resolved = {**self._query_defaults, **self._uri_parser.resolve_query(raw)}
            kwargs.update({k: resolved[k] for k in self._query_names if k in resolved})
        if self._header_names:
            for name, value in scope["headers"]:
                argument = self._header_names.get(name.decode("latin-1"))
                if argument is not None:
                    kwargs[argument] = value.decode("latin-1")
        if self._body_name is not None:
            if PARSED_BODY in scope:
                kwargs[self._body_name] = scope[PARSED_BODY]
            else:  # a body the validator did not parse (no JSON schema for it)
                raw_body = await read_body(receive)
                kwargs[self._body_name] = parse_json(raw_body) if raw_body else None
        if self._wants_request:
            kwargs["request"] = Request(scope, receive)
        if self._wants_principal:
            kwargs["principal"] = scope.get(PRINCIPAL)
        return kwargs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        result = await self.handler(**await self._arguments(scope, receive))
        if isinstance(result, Response):
            await result(scope, receive, send)
            return
        status, headers = 200, None
        if isinstance(result, tuple):
            result, status, *rest = result
            headers = rest[0] if rest else None
        if result is None and status in (204, 304):
            start_headers = _encode_headers(headers)
            body = b""
        else:
            body = orjson.dumps(result)
            start_headers = [
                *_JSON_HEADERS,
                (b"content-length", str(len(body)).encode()),
                *_encode_headers(headers),
            ]
        await send({"type": "http.response.start", "status": status, "headers": start_headers})
        await send({"type": "http.response.body", "body": body})


class DispatchAPI(RoutedAPI[Endpoint]):
    def __init__(self, *args: Any, resources: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resources = resources
        self.add_paths()

    def make_operation(self, operation: AbstractOperation) -> Endpoint:
        return Endpoint(operation, self.resources)


class Dispatcher(RoutedMiddleware[DispatchAPI]):
    """Looks the routed operationId up in one flat table; unknown paths are 404 problems."""

    api_cls = DispatchAPI

    def __init__(self, resources: Mapping[str, Any] | None = None) -> None:
        super().__init__(self._not_found)
        self._endpoints: dict[str, Endpoint] = {}
        self._resources = dict(resources or {})

    def add_api(self, *args: Any, **kwargs: Any) -> DispatchAPI:
        api = super().add_api(*args, resources=self._resources, **kwargs)
        for operation_id, endpoint in api.operations.items():
            if operation_id is not None:
                self._endpoints[operation_id] = endpoint
        return api

    def endpoints(self) -> dict[str, Endpoint]:
        """Every operation's endpoint, by Connexion's operationId."""
        return dict(self._endpoints)

    def add_url_rule(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("every route comes from the spec")

    @staticmethod
    async def _not_found(scope: Scope, receive: Receive, send: Send) -> None:
        raise NotFound(f"No resource at {scope['path'][:200]}.")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routing = scope.get("extensions", {}).get(ROUTING_CONTEXT)
        endpoint = self._endpoints.get(routing.get("operation_id")) if routing else None
        if endpoint is None:
            await self._not_found(scope, receive, send)
            return
        await endpoint(scope, receive, send)
