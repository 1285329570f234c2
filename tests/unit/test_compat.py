"""Each use of a library internal in ``server/compat.py``, held to the library: these
break when Connexion or limits change under them."""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import Any
from unittest import mock

import pytest
from connexion import AsyncApp
from connexion.middleware.main import ConnexionMiddleware
from connexion.security import ApiKeySecurityHandler, OAuthSecurityHandler
from limits import parse
from limits.aio.storage import MemoryStorage
from starlette.testclient import TestClient
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from server import compat
from server.app import create_app
from server.dispatch import Dispatcher


def test_asyncapp_keeps_its_inner_app_where_we_put_ours() -> None:
    stock = AsyncApp(__name__)
    assert stock.middleware.app is stock._middleware_app  # where Connexion looks for it
    ours = create_app()
    assert isinstance(ours._middleware_app, Dispatcher)
    assert ours._middleware_app in list(ours.middleware.middleware_stack or [])


def test_the_middleware_stack_is_built_once_at_start_up() -> None:
    assert ConnexionMiddleware(AsyncApp(__name__)).middleware_stack is None  # Connexion: lazy
    app = create_app()
    stack = app.middleware.middleware_stack
    assert stack is not None
    compat.build_middleware_stack(app)
    assert app.middleware.middleware_stack is stack


@pytest.mark.parametrize("handler", [ApiKeySecurityHandler, OAuthSecurityHandler])
def test_connexion_asks_accepts_kwarg(handler: type) -> None:
    assert callable(handler._accepts_kwarg)
    assert handler._accepts_kwarg(lambda required_scopes: None, "required_scopes")


def test_the_signature_is_inspected_once_not_per_request(client: TestClient) -> None:
    client.get("/api/users")
    before = compat._accepts.cache_info()
    for _ in range(3):
        assert client.get("/api/users").status_code == 200
    after = compat._accepts.cache_info()
    assert after.misses == before.misses
    assert after.hits > before.hits  # Connexion still calls the hook we replaced


def test_limits_still_sweeps_through_the_private_hook() -> None:
    assert hasattr(MemoryStorage, "_MemoryStorage__schedule_expiry")
    storage = compat.MemoryCounters()
    item = parse("1000/minute")
    with mock.patch.object(
        MemoryStorage, "_MemoryStorage__schedule_expiry", autospec=True
    ) as sweep:

        async def hits() -> None:
            for _ in range(50):
                await storage.incr(item.key_for("k"), item.get_expiry())

        asyncio.run(hits())
    assert sweep.call_count == 1  # once a second at most, not once per hit


def test_uvicorn_httptools_protocol_keeps_what_the_bounded_edge_builds_on() -> None:
    # The methods our data_received calls instead of uvicorn's own, and the parser
    # callbacks we wrap.
    for name in (
        "_unset_keepalive_if_required",
        "_should_upgrade",
        "handle_websocket_upgrade",
        "_unsupported_upgrade_warning",
        "on_url",
        "on_header",
        "on_headers_complete",
        "on_message_complete",
    ):
        assert callable(getattr(HttpToolsProtocol, name)), name
    # uvicorn's data_received, which ours replaces: feed the parser, handle an upgrade,
    # answer any other parser error with its 400. Anything more, and ours must follow it.
    source = inspect.getsource(HttpToolsProtocol.data_received)
    assert source.count("self.parser.feed_data(data)") == 1
    assert "except httptools.HttpParserError" in source
    assert "except httptools.HttpParserUpgrade" in source
    assert len([line for line in source.splitlines() if line.strip()]) <= 16
    # The per-request state our refusals read and set.
    cycle = inspect.getsource(RequestResponseCycle.__init__)
    for field in ("response_started", "response_complete", "disconnected", "message_event"):
        assert f"self.{field}" in cycle, field
    assert "self.url" in inspect.getsource(HttpToolsProtocol.on_message_begin)


class FakeTransport:
    def __init__(self) -> None:
        self.written = b""
        self.closed = False
        self.reading = True

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)

    def set_write_buffer_limits(self, *args: object) -> None:
        pass


def test_a_refusal_waits_for_the_answer_before_it_and_is_not_written_into_it() -> None:
    # A pipelined download still answering when the request behind it times out: the 408
    # used to land in the middle of the download (an attacker's trial found it).
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    async def scenario() -> FakeTransport:
        release = asyncio.Event()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["path"] == "/download":
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", b"10")]})  # fmt: skip
                await send({"type": "http.response.body", "body": b"01234", "more_body": True})
                await release.wait()
                await send({"type": "http.response.body", "body": b"56789"})
            else:
                await receive()

        config = Config(app=app, lifespan="off", ws="none")
        config.load()
        protocol = compat.BoundedHttpToolsProtocol(
            config=config, server_state=ServerState(), app_state={}
        )
        transport = FakeTransport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(
            b"GET /download HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n"
        )
        await asyncio.sleep(0.01)  # the download has begun
        protocol._body_timed_out()  # the POST's body deadline
        assert not transport.closed
        release.set()
        await asyncio.sleep(0.01)
        protocol.connection_lost(None)
        return transport

    transport = asyncio.run(scenario())
    head, _, body = transport.written.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b"0123456789"  # the whole download, and nothing after it
    assert transport.closed


def _refused(request: bytes) -> tuple[bytes, dict[str, Any]]:
    """What the bounded edge writes for ``request``: its head, and its problem document."""
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("a refused request never reaches the app")

    async def scenario() -> FakeTransport:
        config = Config(app=app, lifespan="off", ws="none")
        config.load()
        protocol = compat.BoundedHttpToolsProtocol(
            config=config, server_state=ServerState(), app_state={}
        )
        transport = FakeTransport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(request)
        protocol.connection_lost(None)
        return transport

    transport = asyncio.run(scenario())
    assert transport.closed
    head, _, body = transport.written.partition(b"\r\n\r\n")
    return head, json.loads(body)


@pytest.mark.parametrize(
    ("target", "instance"),
    [
        pytest.param(b"/api/" + b"a" * 9000 + b"?q=1", "/api/" + "a" * 195, id="long-path"),
        pytest.param(
            b"/api/caf%C3%A9/" + b"a" * 9000, "/api/caf\u00e9/" + "a" * 190, id="percent-encoded"
        ),
        pytest.param(b"/api/hello?q=" + b"a" * 9000, "/api/hello", id="long-query"),
        pytest.param(b"http://x/api/" + b"a" * 9000, "/api/" + "a" * 195, id="absolute-form"),
    ],
)
def test_a_url_too_long_is_a_414_whose_instance_is_its_path_cut_short(
    target: bytes, instance: str
) -> None:
    head, problem = _refused(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414 ")
    assert problem == {
        "type": "about:blank",
        "title": "Request-URI Too Long",
        "status": 414,
        "detail": "The request's URL exceeds 8192 bytes.",
        "instance": instance,  # as every problem's, cut to 200 characters
    }
