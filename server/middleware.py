"""ASGI middleware of our own that sits in Connexion's stack (see ``app.build_middlewares``)."""

from __future__ import annotations

from functools import partial

from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.options import SwaggerUIConfig
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import BadRequest, PayloadTooLarge
from server.telemetry.middleware import request_info


class BodyLimitMiddleware:
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
    return partial(BodyLimitMiddleware, max_bytes=max_bytes)


class StrictRouting(RoutingMiddleware):
    """Connexion's routing, without Starlette's slash redirects: ``/api/users/`` is not
    an operation of the spec, so it is a 404 problem like any unknown path, never a 307
    whose ``Location`` is built from the request's ``Host`` header."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self.router.redirect_slashes = False

    def add_api(self, *args: object, **kwargs: object) -> None:
        super().add_api(*args, **kwargs)  # type: ignore[arg-type]
        for route in self.router.routes:  # each API is a Router mounted at its base path
            if isinstance(route, Mount):
                route.app.redirect_slashes = False  # type: ignore[attr-defined]


class DocsMiddleware(SwaggerUIMiddleware):
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


class SecurityHeadersMiddleware:
    """Headers every response carries (OWASP's REST list), set once at the edge.

    API answers are data, never documents: no sniffing, no framing, no caching by default
    (a handler may set its own ``Cache-Control``). HTML (Swagger UI) gets everything but
    the ``default-src 'none'`` policy, which would stop its scripts.
    """

    _COMMON = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        common = list(self._COMMON)
        if hsts:
            common.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self._api = [
            *common,
            (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
        ]
        self._html = [*common, (b"content-security-policy", b"frame-ancestors 'none'")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                content_type = b""
                has_cache_control = False
                for name, value in headers:
                    name = name.lower()
                    if name == b"content-type":
                        content_type = value
                    elif name == b"cache-control":
                        has_cache_control = True
                headers.extend(self._html if content_type.startswith(b"text/html") else self._api)
                # Data is private to its caller; the docs' static files may be cached.
                if not has_cache_control and (not content_type or b"json" in content_type):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
