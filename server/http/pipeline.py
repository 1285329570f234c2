"""The request pipeline, in order: everything between the socket and a handler.

::

    socket
      compat.BoundedHttpToolsProtocol  uvicorn + httptools: heads <= 32 KiB, head and body
                                       deadlines; 400/408/414/431 before any app code
      ConnexionMiddleware              Connexion's entry (sets scope["app"])
      [CORSMiddleware]                 only with APP_CORS_ALLOW_ORIGINS: preflights, and
                                       CORS fields on every answer, problems included
      edge.Edge                        request id, problems for whatever is raised, one
                                       send wrapper for every answer's header fields,
                                       metrics and the request log; GET /metrics
      stages.BodyLimit                 413 before a body over APP_MAX_BODY_BYTES is read
      stages.Docs                      Swagger UI and the spec, on their prefixes only
      stages.StrictRouting             Connexion's routing: path -> operation (404/405)
      security.AccessControl           authentication, scopes, rate limits (401/403/429)
      validation.RequestValidation     parameters and body against the spec (400/413/415)
      [ResponseValidationMiddleware]   development and test: answers against the spec
      LifespanMiddleware               start-up and shutdown (app.create_app's lifespan)
      dispatch.Dispatcher              calls the operation's handler with what it needs

``stages()`` builds the list Connexion wraps around the ``Dispatcher``; ``scope.py`` names
what the stages leave in the ASGI scope for each other.

Each routed stage (``AccessControl`` to ``Dispatcher``) holds one object per operation and
would look it up again by operationId on every request. Once Connexion has built them,
``link_operations`` chains each operation's objects to each other directly, and the
router calls the first of them::

    StrictRouting --operationId--> AccessControlOperation -> CompiledValidationOperation
                                   [-> ResponseValidationOperation] -> Endpoint

Unknown paths and methods still go stage by stage, to the 404/405 at the ``Dispatcher``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

from connexion.http_facts import METHODS
from connexion.middleware.abstract import RoutedMiddleware
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.spec import Specification
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from server.dispatch import Dispatcher, Endpoint
from server.http.edge import Edge
from server.http.problems import exception_handlers
from server.http.stages import Docs, StrictRouting, body_limit
from server.ids import new_id
from server.security import AccessControl, Guard
from server.validation import RequestValidation

# Browsers may send these on cross-origin calls, and read these from the answers.
CORS_REQUEST_HEADERS = [
    "Authorization",
    "X-API-Key",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "X-Request-ID",
]
CORS_RESPONSE_HEADERS = [
    "ETag",
    "Location",
    "Link",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "Idempotent-Replayed",
    "WWW-Authenticate",
    "X-Request-ID",
]


class AllowedMethods:
    """Every method the spec has for a concrete path, for the ``Allow`` header of a 405."""

    def __init__(self, spec_file: Path) -> None:
        spec = Specification.load(spec_file)
        base = spec.base_path.rstrip("/")
        self._routes = [
            (
                re.compile(
                    "^" + re.escape(base) + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"
                ),
                {m.upper() for m in item if m in METHODS} | ({"HEAD"} if "get" in item else set()),
            )
            for path, item in spec.raw["paths"].items()
        ]

    def __call__(self, path: str) -> list[str]:
        return sorted(next((methods for regex, methods in self._routes if regex.match(path)), ()))


@dataclass(frozen=True)
class EdgeOptions:
    """What the stages are told by the composition root (from the settings)."""

    cors_allow_origins: Sequence[str] = ()
    metrics: bool = True  # serve /metrics
    metrics_samples_dir: Path | None = None  # several workers' samples (multiprocess mode)
    access_log: bool = True
    hsts: bool = False  # Strict-Transport-Security on every answer
    max_body_bytes: int = 1 << 20
    response_validation: bool = False


def stages(options: EdgeOptions, guard: Guard, spec_file: Path) -> list[Any]:
    """The stages in order, outermost first, as Connexion's ``middlewares`` list."""
    pipeline: list[Any] = []
    if options.cors_allow_origins:
        pipeline.append(
            partial(
                CORSMiddleware,
                allow_origins=list(options.cors_allow_origins),
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=CORS_REQUEST_HEADERS,
                expose_headers=CORS_RESPONSE_HEADERS,
                max_age=600,
            )
        )
    pipeline += [
        partial(
            Edge,
            new_id=new_id,
            handlers=exception_handlers(AllowedMethods(spec_file)),
            metrics_path="/metrics" if options.metrics else None,
            metrics_samples=options.metrics_samples_dir,
            access_log=options.access_log,
            hsts=options.hsts,
        ),
        body_limit(options.max_body_bytes),
        Docs,
        StrictRouting,
        partial(AccessControl, guard=guard),
        RequestValidation,
    ]
    if options.response_validation:
        pipeline.append(ResponseValidationMiddleware)
    pipeline.append(LifespanMiddleware)
    return pipeline


def link_operations(outermost: ASGIApp) -> None:
    """Chain each operation's objects in the routed stages to each other (see above)."""
    app: Any = outermost
    while app is not None and not isinstance(app, StrictRouting):
        app = getattr(app, "app", None)
    if app is None:
        raise RuntimeError("the pipeline has no StrictRouting stage")
    routing: StrictRouting = app
    routed: list[RoutedMiddleware[Any]] = []
    app = routing.app
    while app is not None:
        if isinstance(app, RoutedMiddleware):
            routed.append(app)
            app = app.app
        elif isinstance(app, LifespanMiddleware):  # lifespan events only; requests pass
            app = app.next_app
        else:
            break
    if not routed or not isinstance(routed[-1], Dispatcher):
        raise RuntimeError(f"unexpected stages between routing and dispatch: {routed}")
    heads: dict[str, ASGIApp] = {}
    for operation_id in routed[-1].endpoints():
        chain = _chain(routed, operation_id)
        if chain is None:
            continue  # not every stage knows it: it stays on the stage-by-stage path
        for operation, following in pairwise(chain):
            operation.next_app = following
        heads[operation_id] = chain[0]
    routing.link(heads)


def _chain(routed: list[RoutedMiddleware[Any]], operation_id: str) -> list[Any] | None:
    """``operation_id``'s objects in the routed stages, in order, the endpoint last; None
    if a stage has none for it."""
    chain = []
    for stage in routed:
        operation = _operation(stage, operation_id)
        if operation is None:
            return None
        if operation is stage.app:
            # A stage with nothing to do for this operation (response validation switched
            # off) hands it straight to its next app: leave the stage out.
            continue
        if stage is not routed[-1] and not hasattr(operation, "next_app"):
            return None
        chain.append(operation)
    return chain if chain and isinstance(chain[-1], Endpoint) else None


def _operation(stage: RoutedMiddleware[Any], operation_id: str) -> Any:
    apis = list(stage.apis.values())
    if len(apis) != 1 or len(apis[0]) != 1:
        return None  # one API per base path is what this service mounts
    return apis[0][0].operations.get(operation_id)
