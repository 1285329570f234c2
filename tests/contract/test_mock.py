"""`make mock`: Prism's mock of the spec, and the generated client written against it.

People who write a client before the service runs point it at the mock. The mock answers
from the spec's examples (and from the schemas where an operation has none); the
generated client must read every such answer into its models, errors included.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from contract_api_client import AuthenticatedClient, Client
from contract_api_client.api.clients import list_clients
from contract_api_client.api.destinations import create_destination, list_destinations
from contract_api_client.api.greetings import hello
from contract_api_client.api.processing import process_data
from contract_api_client.api.records import list_records
from contract_api_client.api.users import create_user, get_user, list_users
from contract_api_client.models import (
    Destination,
    DestinationInput,
    Greeting,
    Problem,
    ProcessRequest,
    User,
    UserInput,
    UserPage,
)

from scripts.processes import ServerProcess
from tests.contract.test_prism import PRISM
from tests.databases import unavailable
from tests.e2e.conftest import ROOT, free_port


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The mock as `make mock` starts it, on a port of its own."""
    if not PRISM.is_file():
        unavailable(f"Prism is not installed at {PRISM} (make node-tools)")
    port = free_port()
    server = ServerProcess.start(
        ["make", "--no-print-directory", "mock", f"MOCK_PORT={port}"],
        url=f"http://127.0.0.1:{port}",
        log=tmp_path_factory.mktemp("mock") / "mock.log",
        env={**os.environ, "NO_COLOR": "1"},
        cwd=ROOT,
    )
    try:
        if server.wait_answering("/hello", seconds=30) is None:
            pytest.fail(f"the mock did not start:\n{server.log_tail()}")
        yield server.url
    finally:
        server.stop(group=True)


def test_the_client_reads_the_mocked_greeting(mock: str) -> None:
    with Client(base_url=mock, timeout=5) as client:
        assert hello.sync(client=client) == Greeting(message="Hello, World!")


def test_the_client_reads_mocked_users(mock: str) -> None:
    with AuthenticatedClient(
        base_url=mock, token="any-key", prefix="", auth_header_name="X-API-Key", timeout=5
    ) as client:
        user = get_user.sync(1, client=client)
        assert isinstance(user, User) and user.id >= 1 and user.name
        page = list_users.sync(client=client)
        assert isinstance(page, UserPage) and all(isinstance(u, User) for u in page.items)
        created = create_user.sync_detailed(
            client=client, body=UserInput(name="Ada Lovelace", email="ada@example.com")
        )
        assert created.status_code == 201 and isinstance(created.parsed, User)
        processed = process_data.sync_detailed(
            client=client, body=ProcessRequest(user_id=1, item_id=42, quantity=3)
        )
        assert processed.status_code == 200


def authenticated(mock: str) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=mock, token="any-key", prefix="", auth_header_name="X-API-Key", timeout=5
    )


@pytest.mark.parametrize(
    "listing",
    [list_users, list_records, list_clients, list_destinations],
    ids=lambda m: m.__name__.rsplit(".", 1)[-1],
)
def test_a_mocked_page_can_be_followed(mock: str, listing: Any) -> None:
    """A list's mocked `next_cursor` is one the spec accepts back as `cursor` (a placeholder
    such as "string" is refused by the mock's own validation), and its items are
    realistic, not the schema's placeholders."""
    with authenticated(mock) as client:
        first = listing.sync_detailed(client=client)
        assert first.status_code == 200, first.content
        assert first.parsed.next_cursor
        following = listing.sync_detailed(client=client, cursor=first.parsed.next_cursor)
        assert following.status_code == 200, following.content
    assert b'"string"' not in first.content


def test_a_mocked_destination_can_be_created_back(mock: str) -> None:
    """What the mock lists is valid input: its URL passes DestinationUrl's pattern."""
    with authenticated(mock) as client:
        page = list_destinations.sync(client=client)
        assert page is not None and not isinstance(page, Problem)
        listed: Destination = page.items[0]
        created = create_destination.sync_detailed(
            client=client, body=DestinationInput(name=listed.name, url=listed.url)
        )
    assert created.status_code == 201, created.content


def test_the_client_reads_a_mocked_problem(mock: str) -> None:
    """Prism answers the documented 401 when no credential is sent; the client parses it."""
    with Client(base_url=mock, timeout=5) as client:
        refused = list_users.sync_detailed(client=client)
    assert refused.status_code == 401
    assert isinstance(refused.parsed, Problem)
    assert refused.parsed.type_ == "urn:contract-api:problem:unauthorized"
