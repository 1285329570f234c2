"""``server.http.edge.Edge`` on its own: one send wrapper decorates every answer, problems
included, and whatever the inside raises becomes a problem document."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from server.errors import NotFound
from server.http.edge import Edge
from server.http.problems import exception_handlers
from server.http.scope import request_info

Message = dict[str, Any]


def scope(**headers: str) -> Scope:
    return {
        "type": "http",
        "method": "GET",
        "path": "/api/things",
        "raw_path": b"/api/things",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()],
    }


def call(app: Any, request: Scope | None = None) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        await app(request or scope(), receive, send)

    asyncio.run(run())
    return sent


def edge(app: Any, handlers: Any = None) -> Edge:
    return Edge(
        app,
        new_id=lambda: "made-up-id",
        handlers=handlers or exception_handlers(),
        metrics_path="/metrics",
        metrics_samples=None,
        access_log=False,
        hsts=True,
    )


def headers(sent: list[Message]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in sent[0]["headers"]}


async def rate_limited_then(exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
    info = request_info(scope)
    assert info is not None
    info.headers.append((b"ratelimit", b'"client";r=9;t=60'))
    raise exc


def test_a_problem_raised_inside_is_rendered_and_decorated_like_any_answer() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await rate_limited_then(NotFound("No such thing."), scope, receive, send)

    sent = call(edge(app), scope(x_request_id="abc-123"))
    assert sent[0]["status"] == 404
    fields = headers(sent)
    assert fields["content-type"] == "application/problem+json"
    assert fields["x-request-id"] == "abc-123"
    assert fields["ratelimit"] == '"client";r=9;t=60'  # what the inside learnt, on a problem too
    assert fields["x-content-type-options"] == "nosniff"
    assert fields["strict-transport-security"].startswith("max-age=")
    assert fields["cache-control"] == "no-store"
    assert json.loads(sent[1]["body"])["detail"] == "No such thing."


def test_a_bug_is_a_bare_500_and_is_logged_whole(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("secret internals")

    sent = call(edge(app), scope(x_request_id="not valid because of spaces"))
    assert sent[0]["status"] == 500
    assert headers(sent)["x-request-id"] == "made-up-id"
    assert b"secret internals" not in sent[1]["body"]
    assert "secret internals" in caplog.text


def test_when_the_problem_handler_fails_too_the_answer_is_still_a_problem() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("first")

    async def broken(request: Any, exc: Exception) -> Any:
        raise LookupError("the handler itself")

    sent = call(edge(app, {Exception: broken}))
    assert sent[0]["status"] == 500
    assert headers(sent)["content-type"] == "application/problem+json"
    assert json.loads(sent[1]["body"])["status"] == 500


def test_a_failure_after_the_answer_began_breaks_it_off() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("half way")

    with pytest.raises(RuntimeError, match="half way"):
        call(edge(app))


def test_html_gets_a_policy_that_lets_swagger_ui_run_and_may_be_cached() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        start = {"type": "http.response.start", "status": 200}
        await send({**start, "headers": [(b"content-type", b"text/html; charset=utf-8")]})
        await send({"type": "http.response.body", "body": b"<html></html>"})

    fields = headers(call(edge(app)))
    assert fields["content-security-policy"] == "frame-ancestors 'none'"
    assert "cache-control" not in fields
