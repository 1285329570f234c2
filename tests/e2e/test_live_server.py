"""The real server over real sockets, driven the ways its users drive it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
import requests
from contract_api_client import AuthenticatedClient
from contract_api_client.api.greetings import hello
from contract_api_client.api.processing import process_data
from contract_api_client.models import Greeting, Problem, ProcessRequest, ProcessResponse

from tests.e2e.conftest import LiveServer, with_api_key, with_bearer_token
from tests.identities import ALICE

pytestmark = pytest.mark.e2e


class TestGeneratedClient:
    @pytest.mark.parametrize("authenticate", [with_api_key, with_bearer_token])
    def test_sync(
        self, live_server: LiveServer, authenticate: Callable[[LiveServer], AuthenticatedClient]
    ) -> None:
        with authenticate(live_server) as api:
            assert hello.sync(client=api) == Greeting(message="Hello, World!")
            reply = process_data.sync(client=api, body=ProcessRequest(1, 2, 3))
            assert isinstance(reply, ProcessResponse)
            assert reply.result.quantity == 6
            problem = process_data.sync(client=api, body=ProcessRequest(1, 2, 0))
            assert isinstance(problem, Problem)
            assert problem.status == 400

    def test_async_concurrent(self, live_server: LiveServer) -> None:
        async def run() -> list[int]:
            async with with_api_key(live_server) as api:
                replies = await asyncio.gather(
                    *(
                        process_data.asyncio(client=api, body=ProcessRequest(n, n, n))
                        for n in range(1, 51)
                    )
                )
            return [r.result.quantity for r in replies if isinstance(r, ProcessResponse)]

        assert asyncio.run(run()) == [2 * n for n in range(1, 51)]


class TestTutorialClient:
    """The classic Flask tutorial's client: requests.post(json=...) then check status."""

    def test_success(self, live_server: LiveServer) -> None:
        data = {"user_id": 1, "item_id": 101, "quantity": 5}
        response = requests.post(
            f"{live_server.url}/api/process_data", json=data, headers=ALICE.headers, timeout=5
        )
        assert response.status_code == 200
        assert response.json()["status"] == "success"
        assert response.json()["result"]["quantity"] == 10

    def test_non_positive_quantity_is_400_not_500(self, live_server: LiveServer) -> None:
        data = {"user_id": 1, "item_id": 101, "quantity": 0}
        response = requests.post(
            f"{live_server.url}/api/process_data", json=data, headers=ALICE.headers, timeout=5
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"


class TestOverSockets:
    def test_oversized_body_is_refused_before_it_is_sent(self, live_server: LiveServer) -> None:
        """Declare 100 MB, send none of it: the 413 must come back anyway."""
        host, port = live_server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            conn.sendall(
                b"POST /api/process_data HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
            )
            head = conn.recv(4096)
        assert head.startswith(b"HTTP/1.1 413 ")
        assert b"application/problem+json" in head

    def test_docs_are_served(self, live_server: LiveServer) -> None:
        assert requests.get(f"{live_server.url}/api/ui/", timeout=5).status_code == 200
        spec = requests.get(f"{live_server.url}/api/openapi.json", timeout=5).json()
        assert spec["info"]["title"] == "Contract API"

    def test_server_logged_no_traceback(self, live_server: LiveServer) -> None:
        requests.post(f"{live_server.url}/api/process_data", data=b"\xff", timeout=5)
        assert "Traceback" not in live_server.log.read_text()
