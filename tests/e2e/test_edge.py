"""The edge before any app code: bounded heads, head and body deadlines, problem documents
for what the HTTP parser refuses (issue 15's second defect: a 100 MB header was answered
200, and six unfinished 150 MB headers took the server to 803 MB and stopped its health
probe). Raw sockets, because an HTTP client would not send these requests."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import LiveServer, seeded_server
from tests.identities import ALICE

pytestmark = pytest.mark.e2e

HEAD_LIMIT = 32 * 1024  # the defaults, as shipped
LINE_LIMIT = 8 * 1024
HEAD_SECONDS = 1.0
BODY_SECONDS = 1.0


@pytest.fixture(scope="module")
def edge_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with seeded_server(
        tmp_path_factory.mktemp("edge"),
        APP_HEADER_TIMEOUT_SECONDS=str(HEAD_SECONDS),
        APP_BODY_TIMEOUT_SECONDS=str(BODY_SECONDS),
    ) as server:
        yield server


def address(server: LiveServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def exchange(server: LiveServer, *parts: bytes, pause: float = 0.0, wait: float = 5.0) -> bytes:
    """Send ``parts`` (``pause`` seconds apart) and read until the server closes."""
    with socket.create_connection(address(server), timeout=wait) as sock:
        for part in parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # it refused and closed while we were still sending
            time.sleep(pause)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        return received


def problem(answer: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (f.split(":", 1) for f in fields)}
    return int(status_line.split()[1]), headers, json.loads(body)


def get(path: str = "/api/hello", *fields: bytes) -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(fields)


def rss_kib(server: LiveServer) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])


def test_a_head_over_the_limit_is_refused_431_while_it_streams(edge_server: LiveServer) -> None:
    answer = exchange(
        edge_server,
        get("/api/hello", b"X-Padding: "),
        *[b"a" * 65536] * 16,  # a megabyte of one header, never finished
        wait=5,
    )
    status, headers, body = problem(answer)
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert body["status"] == 431
    assert str(HEAD_LIMIT) in str(body["detail"])


@pytest.mark.parametrize(
    ("request_bytes", "status", "named"),
    [
        pytest.param(
            get("/api/hello", b"X-Long: " + b"a" * (LINE_LIMIT + 1) + b"\r\n\r\n"),
            431,
            str(LINE_LIMIT),
            id="one-header-line",
        ),
        pytest.param(get("/api/hello?q=" + "a" * (LINE_LIMIT + 1), b"\r\n"), 414, "URL", id="url"),
        pytest.param(b"NOT HTTP AT ALL\r\n\r\n", 400, "not valid HTTP", id="malformed"),
    ],
)
def test_a_request_the_parser_refuses_gets_a_problem_document(
    edge_server: LiveServer, request_bytes: bytes, status: int, named: str
) -> None:
    answered, headers, body = problem(exchange(edge_server, request_bytes))
    assert (answered, body["status"]) == (status, status)
    assert headers["content-type"] == "application/problem+json"
    assert named in str(body["detail"])


def test_heads_and_bodies_within_the_limits_are_served(edge_server: LiveServer) -> None:
    # Many header fields that together stay just under the limit, and a body in the same
    # read as its head: neither is mistaken for an oversized head.
    fields = [f"X-Field-{n}: {'v' * 1000}\r\n".encode() for n in range(30)]
    assert sum(map(len, fields)) < HEAD_LIMIT - 500
    answer = exchange(edge_server, get("/api/hello", *fields, b"Connection: close\r\n\r\n"))
    assert answer.startswith(b"HTTP/1.1 200 ")
    head = answer.partition(b"\r\n\r\n")[0].lower()
    assert b"\r\nserver:" not in head  # the server software is not announced
    assert b"\r\ndate:" in head

    body = json.dumps({"user_id": 1, "item_id": 2, "quantity": 3, "note": "n" * 40000}).encode()
    post = (
        b"POST /api/process_data HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"X-API-Key: {ALICE.secret}\r\nContent-Length: {len(body)}\r\n".encode()
        + b"Connection: close\r\n\r\n"
        + body
    )
    answer = exchange(edge_server, post)
    assert not answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]  # note is no property of it


def test_pipelined_requests_in_one_read_are_all_answered(edge_server: LiveServer) -> None:
    two = get("/api/hello", b"\r\n") + get("/api/hello", b"Connection: close\r\n\r\n")
    answer = exchange(edge_server, two)
    assert answer.count(b"HTTP/1.1 200 OK") == 2


def test_unfinished_huge_heads_neither_grow_memory_nor_stop_the_health_probe(
    edge_server: LiveServer,
) -> None:
    before = rss_kib(edge_server)
    results: list[bytes] = []

    def flood() -> None:
        part = b"a" * 65536
        results.append(exchange(edge_server, get("/api/hello", b"X-Big: "), *[part] * 40))

    floods = [threading.Thread(target=flood) for _ in range(6)]
    for thread in floods:
        thread.start()
    live = httpx.get(f"{edge_server.url}/api/health/live", timeout=2)
    for thread in floods:
        thread.join(timeout=20)
    assert live.status_code == 200
    assert [problem(answer)[0] for answer in results] == [431] * 6
    # Each flood was cut at 32 KiB; the old server held all six heads (803 MB).
    assert rss_kib(edge_server) - before < 20 * 1024


def test_a_head_that_does_not_arrive_in_time_gets_408(edge_server: LiveServer) -> None:
    started = time.monotonic()
    answer = exchange(edge_server, get("/api/hello", b"X-Slow: "), b"a", b"a", pause=0.4, wait=5)
    took = time.monotonic() - started
    status, _, body = problem(answer)
    assert status == 408
    assert "header" in str(body["detail"])
    assert HEAD_SECONDS <= took < HEAD_SECONDS + 3


def test_a_connection_that_sends_nothing_is_closed(edge_server: LiveServer) -> None:
    started = time.monotonic()
    assert exchange(edge_server, wait=10) == b""
    assert time.monotonic() - started < HEAD_SECONDS + 3


def test_a_body_that_stalls_gets_408_and_the_handler_never_runs(edge_server: LiveServer) -> None:
    head = (
        b"POST /api/users HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"X-API-Key: {ALICE.secret}\r\nContent-Length: 100\r\n\r\n".encode()
    )
    started = time.monotonic()
    answer = exchange(edge_server, head, b'{"name": "Slow Loris", ', wait=10)
    took = time.monotonic() - started
    status, _, body = problem(answer)
    assert status == 408
    assert "body" in str(body["detail"])
    assert BODY_SECONDS <= took < BODY_SECONDS + 3
    # Still serving, and the slow request stored nothing.
    users = httpx.get(
        f"{edge_server.url}/api/users", headers={"X-API-Key": ALICE.secret}, timeout=5
    )
    assert users.status_code == 200
    assert "Slow Loris" not in users.text


def test_refusals_are_counted_by_reason(edge_server: LiveServer) -> None:
    exchange(edge_server, get("/api/hello", b"X-Long: " + b"a" * (LINE_LIMIT + 1) + b"\r\n\r\n"))
    metrics = httpx.get(f"{edge_server.url}/metrics", timeout=5).text
    assert 'http_edge_refusals_total{reason="header_line_too_large"}' in metrics


# An attacker's trial of the first version of this edge found what follows.


def chunked_post(path: str, *fields: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n".encode()
        + f"X-API-Key: {ALICE.secret}\r\nTransfer-Encoding: chunked\r\n".encode()
        + b"".join(fields)
        + b"\r\n"
    )


def test_trailer_fields_are_refused_not_made_headers(edge_server: LiveServer) -> None:
    # uvicorn appended trailers to the request's headers: an X-API-Key a proxy never saw.
    smuggle = (
        b"GET /api/users HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"0\r\nX-API-Key: {ALICE.secret}\r\n\r\n".encode()
    )
    status, _, body = problem(exchange(edge_server, smuggle))
    assert status == 400
    assert "Trailer" in str(body["detail"])


def test_a_flood_after_a_chunked_body_is_cut_off(edge_server: LiveServer) -> None:
    # Trailers were never counted: 200 MB of them were taken in, RSS +187 MB.
    before = rss_kib(edge_server)
    head = chunked_post("/api/process_data") + b"1\r\n{\r\n0\r\nX-T: "
    answer = exchange(edge_server, head, *[b"t" * 65536] * 64, wait=10)  # 4 MiB, one line
    status, _, _ = problem(answer)
    assert status == 413
    assert rss_kib(edge_server) - before < 20 * 1024


@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param(b"\r\n\r\n", id="blank-lines-before-it"),
        pytest.param(get("/api/health/live", b"\r\n"), id="behind-a-pipelined-request"),
    ],
)
def test_a_big_head_cannot_hide_in_one_read(edge_server: LiveServer, prefix: bytes) -> None:
    fields = [f"X-F{n}: {'v' * 4000}\r\n".encode() for n in range(25)]  # 100 KB
    answer = exchange(edge_server, prefix + get("/api/hello", *fields, b"\r\n"))
    assert answer.count(b"HTTP/1.1 200 OK") == (1 if prefix.startswith(b"GET") else 0)
    if not prefix.startswith(b"GET"):
        assert problem(answer)[0] == 431


def test_a_bad_request_behind_a_good_one_lets_the_good_one_be_answered(
    edge_server: LiveServer,
) -> None:
    answer = exchange(edge_server, get("/api/health/live", b"\r\n") + b"NOT HTTP AT ALL\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert b"connection: close" in answer.lower()


def test_an_upgrade_is_answered_as_http_and_nothing_after_it_is_read(
    edge_server: LiveServer,
) -> None:
    websocket = get(
        "/api/hello",
        b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n",
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    answer = exchange(edge_server, websocket)
    assert answer.startswith(b"HTTP/1.1 200 OK")  # was a text/plain 500
    # h2c: what follows the upgrade request, in a later read, used to run as a request.
    h2c = get("/api/hello", b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n")
    smuggled = get("/api/users", f"X-API-Key: {ALICE.secret}\r\n\r\n".encode())
    answer = exchange(
        edge_server, h2c + b"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", smuggled, pause=0.3
    )
    assert answer.count(b"HTTP/1.1 ") == 1
    assert b'"items"' not in answer
