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
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from server.errors import ServiceError
from server.http.problems import render_problem
from server.security import Principal
from server.services.idempotency import Idempotency, Reply, Write, scope_for

REPLAYED_HEADER = "Idempotent-Replayed"

Describe = Callable[[Any, Principal, str], Write[Any]]
Handler = Callable[..., Awaitable[Response]]


def response(reply: Reply) -> Response:
    headers = {**reply.headers, REPLAYED_HEADER: "true"} if reply.replayed else reply.headers
    return Response(reply.body, status_code=reply.status, headers=headers)


def _stored(problem: ServiceError, *, instance: str) -> Reply:
    """A refusal as it is stored and replayed: the problem document the edge would send."""
    rendered = render_problem(problem, instance=instance)
    return Reply(rendered.status_code, bytes(rendered.body), dict(rendered.headers))


def idempotent(describe: Describe) -> Handler:
    operation = describe.__name__

    async def handler(
        body: Any,
        idempotency: Idempotency,
        request: Request,
        principal: Principal,
        idempotency_key: str | None = None,
    ) -> Response:
        path = request.scope["path"]
        reply = await idempotency.run(
            describe(body, principal, path),
            scope=scope_for(principal.client_id, operation),
            key=idempotency_key,
            payload=body,
            refusal=functools.partial(_stored, instance=path),
        )
        return response(reply)

    # Named as the description, but not wrapping it (no __wrapped__): the dispatcher fills
    # the handler's own parameters, not the description's.
    for name in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(handler, name, getattr(describe, name))
    return handler
