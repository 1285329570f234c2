"""``AiohttpTransport`` against real sockets on 127.0.0.1: a server that answers, one that
is not there, one that hangs up before answering or half-way, one that speaks garbage."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest

from server.downstream.transport import (
    AiohttpTransport,
    Answer,
    Broken,
    ClosedBeforeAnswer,
    ConnectFailed,
    NotSendable,
    check_headers,
)

Reply = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

REQUEST = b'{"a": 1}'


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return head + await reader.readexactly(length)


def exchange(
    reply: Reply, *, max_bytes: int = 1000, times: int = 1
) -> tuple[list[Answer | BaseException], list[bytes]]:
    """POST ``times`` to a server that answers with ``reply``; answers (or errors), and
    the requests as the server read them."""
    seen: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                seen.append(await _read_request(reader))
                await reply(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def run() -> list[Answer | BaseException]:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport = AiohttpTransport(max_connections=4)
        await transport.start()
        results: list[Answer | BaseException] = []
        try:
            for _ in range(times):
                try:
                    async with asyncio.timeout(5):
                        results.append(
                            await transport.post(
                                f"http://127.0.0.1:{port}/hook",
                                REQUEST,
                                [("content-type", "application/json"), ("x-n", "1")],
                                max_bytes=max_bytes,
                            )
                        )
                except Exception as exc:
                    results.append(exc)
        finally:
            await transport.close()
            server.close()
            await server.wait_closed()
        return results

    return asyncio.run(run()), seen


def answering(status: int, body: bytes, *fields: bytes) -> Reply:
    async def reply(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = b"HTTP/1.1 %d X\r\nContent-Length: %d\r\n" % (status, len(body))
        writer.write(head + b"".join(f + b"\r\n" for f in fields) + b"\r\n" + body)
        await writer.drain()

    return reply


def raw(data: bytes) -> Reply:
    async def reply(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(data)
        await writer.drain()
        writer.close()

    return reply


def test_an_answer_comes_back_with_its_fields_and_body() -> None:
    [answer], [request] = exchange(answering(201, b'{"id": 7}', b"Retry-After: 3"))
    assert isinstance(answer, Answer)
    assert (answer.status, answer.content, answer.too_large) == (201, b'{"id": 7}', False)
    assert answer.headers["retry-after"] == answer.headers["Retry-After"] == "3"
    assert request.startswith(b"POST /hook HTTP/1.1\r\n")
    assert request.endswith(b"\r\n\r\n" + REQUEST)
    lowered = request.lower()
    assert b"\r\nx-n: 1\r\n" in lowered and b"\r\ncontent-type: application/json\r\n" in lowered
    assert b"user-agent:" not in lowered  # the gateway sends its own; aiohttp adds none


def test_a_body_over_the_cap_is_not_kept() -> None:
    [answer], _ = exchange(answering(200, b"x" * 1001), max_bytes=1000)
    assert isinstance(answer, Answer)
    assert (answer.content, answer.too_large) == (b"", True)
    [answer], _ = exchange(answering(200, b"x" * 1000), max_bytes=1000)
    assert isinstance(answer, Answer) and len(answer.content) == 1000


def test_no_cookie_of_one_answer_rides_on_the_next_call() -> None:
    answers, requests = exchange(answering(200, b"{}", b"Set-Cookie: session=secret"), times=2)
    assert all(isinstance(a, Answer) for a in answers)
    assert len(requests) == 2 and b"secret" not in requests[1]


def test_nobody_listening_is_a_failed_connect() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there

    async def run() -> BaseException | None:
        transport = AiohttpTransport(max_connections=1)
        await transport.start()
        try:
            await transport.post(f"http://127.0.0.1:{port}/", b"", [], max_bytes=10)
        except Exception as exc:
            return exc
        finally:
            await transport.close()
        return None

    assert isinstance(asyncio.run(run()), ConnectFailed)


@pytest.mark.parametrize(
    ("reply", "error", "says"),
    [
        pytest.param(raw(b""), ClosedBeforeAnswer, "closed the connection", id="closed"),
        pytest.param(
            raw(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"cut'), Broken, "", id="cut"
        ),
        pytest.param(raw(b"HELLO THERE\r\n\r\n"), Broken, "not valid HTTP", id="garbage"),
        pytest.param(
            raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"),
            Broken,
            "not valid HTTP",
            id="two-lengths",
        ),
    ],
)
def test_what_a_misbehaving_destination_does_is_named(
    reply: Reply, error: type[Exception], says: str
) -> None:
    [result], _ = exchange(reply)
    assert isinstance(result, error), repr(result)
    assert says in str(result)


@pytest.mark.parametrize(
    "headers",
    [{"idempotency-key": "\xe9"}, {"x-a": "one\r\nx-b: two"}, {"x\u00e9": "v"}, {"x-a": "a\0"}],
)
def test_a_header_that_cannot_go_on_the_wire_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(NotSendable):
        check_headers(headers)


def test_plain_headers_go_as_they_are() -> None:
    assert check_headers({"X-A": "v 1", "b": ""}) == [("X-A", "v 1"), ("b", "")]
