"""A real downstream API on a loopback port, misbehaving on demand, for the gateway's tests.

Every route takes a POST and records what it got (``hits``, ``seen``, with the monotonic
times the request came in and its answer was made):

    /ok                   200, echoes the payload and the forwarded headers
    /slow/{seconds}       the same, after sleeping
    /status/{code}        that status, with a small JSON body
    /leak                 500 with internals in its body (a traceback, a password)
    /deep/{n}             200 with JSON nested n levels deep
    /flaky/{n}/{code}     ``code`` for the first n calls (per path), then 200
    /retry-after/{secs}   429 with ``Retry-After: secs`` once (per path), then 200
    /garbage              200 with an HTML body
    /huge                 200 with 1 MiB of JSON
    /drip                 200, one byte every 0.2 s for 10 s
    /redirect             302 to /ok
    /empty                204
    /cookie               200, and sets a cookie

``refused_url()`` gives a loopback address where nothing listens.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

LEAKED = {
    "error": 'Traceback (most recent call last): File "/srv/app.py", line 12',
    "db_password": "hunter2-downstream",
}


class Downstream:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.seen: list[dict[str, Any]] = []
        self.url = ""
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])

    def reset(self) -> None:
        self.hits.clear()
        self.seen.clear()

    def url_for(self, path: str) -> str:
        return f"{self.url}{path}"

    async def _echo(self, request: Request, body: bytes) -> Response:
        return JSONResponse(
            {
                "received": orjson.loads(body) if body else None,
                "request_id": request.headers.get("x-request-id"),
                "idempotency_key": request.headers.get("idempotency-key"),
            }
        )

    async def _handle(self, request: Request) -> Response:
        seen: dict[str, Any] = {"started": time.monotonic()}
        try:
            return await self._answer(request, seen)
        finally:
            seen["ended"] = time.monotonic()  # when the answer was made (for overlaps)

    async def _answer(self, request: Request, seen: dict[str, Any]) -> Response:
        path = request.url.path
        body = await request.body()
        self.hits[path] += 1
        seen |= {"path": path, "headers": dict(request.headers), "body": body}
        self.seen.append(seen)
        parts = path.strip("/").split("/")
        route, args = parts[0], parts[1:]
        if route == "ok":
            return await self._echo(request, body)
        if route == "slow":
            await asyncio.sleep(float(args[0]))
            return await self._echo(request, body)
        if route == "status":
            return JSONResponse({"code": int(args[0])}, status_code=int(args[0]))
        if route == "leak":
            return JSONResponse(LEAKED, status_code=500)
        if route == "deep":
            depth = int(args[0])
            return Response(b"[" * depth + b"]" * depth, media_type="application/json")
        if route == "flaky":
            if self.hits[path] <= int(args[0]):
                return JSONResponse({"try": "again"}, status_code=int(args[1]))
            return await self._echo(request, body)
        if route == "retry-after":
            if self.hits[path] == 1:
                return JSONResponse({}, status_code=429, headers={"Retry-After": args[0]})
            return await self._echo(request, body)
        if route == "garbage":
            return Response(b"<html>oops</html>", media_type="text/html")
        if route == "huge":
            return Response(b'{"x": "' + b"a" * (1 << 20) + b'"}', media_type="application/json")
        if route == "drip":
            return StreamingResponse(_drip(), media_type="application/json")
        if route == "redirect":
            return Response(status_code=302, headers={"Location": self.url_for("/ok")})
        if route == "empty":
            return Response(status_code=204)
        if route == "cookie":
            response = await self._echo(request, body)
            response.set_cookie("session", "secret-of-the-first-caller")
            return response
        return JSONResponse({"unknown": path}, status_code=404)


async def _drip() -> AsyncIterator[bytes]:
    for _ in range(50):
        yield b" "
        await asyncio.sleep(0.2)


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def refused_url() -> Iterator[str]:
    """A loopback port that is bound but never listens: connecting is refused at once."""
    sock = bound_socket()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    finally:
        sock.close()


@contextmanager
def raw_answer(answer: bytes) -> Iterator[str]:
    """A loopback port that answers every connection with ``answer`` as it is (malformed
    HTTP, say), then closes it; yields its URL."""
    sock = bound_socket()
    sock.listen(8)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = sock.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    connection.recv(65536)
                    connection.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/raw"
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()


@contextmanager
def running(downstream: Downstream, sock: socket.socket | None = None) -> Iterator[Downstream]:
    """Serve ``downstream`` with uvicorn on a thread, on a socket bound beforehand (``sock``,
    or a new one)."""
    sock = sock or bound_socket()
    downstream.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(downstream.app, log_level="warning", lifespan="off", timeout_keep_alive=30)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the downstream test server did not start")
        time.sleep(0.01)
    try:
        yield downstream
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
