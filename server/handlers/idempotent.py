"""Idempotent writes as one decorator: ``@idempotent`` turns the description of a write (a
plain function of the body, the caller and the request's path that returns a ``Write``:
the service's step and how its result is answered) into the operation's handler, which
honours ``Idempotency-Key`` (``services/idempotency``). The service's step and the stored
answer commit in one transaction, which the idempotency service owns, not the handler.

The handler it makes has the signature every idempotent operation shares: the request
body, the idempotency service, the request, the caller and the optional
``Idempotency-Key`` header.
Keys are scoped to the caller and to the operation, named by the work's ``__name__``
(the operationId), so one key never replays another operation's answer.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.errors import ServiceError
from server.http.problems import render_problem
from server.security import Principal
from server.services.idempotency import Idempotency, Reply, Write, scope_for

REPLAYED_HEADER = "Idempotent-Replayed"
KEY = "idempotency_key"

Describe = Callable[..., Write[Any]]  # (body, principal, path, **path parameters)
Handler = Callable[..., Awaitable[Response]]


def response(reply: Reply) -> Response:
    headers = {**reply.headers, REPLAYED_HEADER: "true"} if reply.replayed else reply.headers
    return Response(reply.body, status_code=reply.status, headers=headers)


def _stored(problem: ServiceError, *, instance: str) -> Reply:
    """A refusal as it is stored and replayed: the problem document the edge would send."""
    rendered = render_problem(problem, instance=instance)
    return Reply(rendered.status_code, bytes(rendered.body), dict(rendered.headers))


def idempotent(describe: Describe) -> Handler:
    """The handler of ``describe``'s operation. What ``describe`` takes after the body, the
    caller and the path, it gets by name as any handler would: the operation's path
    parameters (a destination's ``name``), which a key is held to as well (one key never
    replays an answer about another resource), or a service the answer needs."""
    operation = describe.__name__
    extra_names = list(inspect.signature(describe).parameters)[3:]
    # A description may take the key itself (to derive what it sends on from it).
    wants_key = KEY in extra_names
    if wants_key:
        extra_names.remove(KEY)

    async def handler(
        body: Any = None,
        *,
        idempotency: Idempotency,
        request: Request,
        principal: Principal,
        idempotency_key: str | None = None,
        **extras: Any,
    ) -> Response:
        path = request.scope["path"]
        in_path = {k: v for k, v in extras.items() if k in request.scope.get("path_params", {})}
        if wants_key:
            extras[KEY] = idempotency_key
        reply = await idempotency.run(
            describe(body, principal, path, **extras),
            scope=scope_for(principal.client_id, operation),
            key=idempotency_key,
            payload={"body": body, "path": in_path} if in_path else body,
            refusal=functools.partial(_stored, instance=path),
        )
        return response(reply)

    # Named as the description, but not wrapping it (no __wrapped__): the dispatcher fills
    # the handler's own parameters, not the description's; the extras by their names.
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(handler, name, getattr(describe, name))
    signature = inspect.signature(handler)
    parameters = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    parameters += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in extra_names]
    handler.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return handler
