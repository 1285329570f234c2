"""Every command against the app in this process, through the generated client's transport.

The synchronous commands go through Starlette's test transport (the app's lifespan runs, as
in production); batches, which use the async client, through httpx's ASGI transport.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from cli.main import main
from server.app import ContractApp
from tests.downstream import Downstream
from tests.identities import ADMIN, ALICE


@pytest.fixture
def transports(app: ContractApp) -> Iterator[dict[str, Any]]:
    with TestClient(app, base_url="http://testserver") as test_client:
        # The transport the test client sends through (an httpx.Client attribute).
        yield {
            "transport": test_client._transport,
            "async_transport": httpx.ASGITransport(app=app),
        }


def cli(
    capsys: pytest.CaptureFixture[str], transports: dict[str, Any], *args: str, key: str = ""
) -> Any:
    flags = ["--base-url", "http://testserver", "--api-key", key or ALICE.secret, "-o", "json"]
    code = main([*flags, *args], **transports)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_every_command(
    capsys: pytest.CaptureFixture[str],
    transports: dict[str, Any],
    downstream: Downstream,
    tmp_path: Path,
) -> None:
    def run(*args: str, key: str = "") -> Any:
        return cli(capsys, transports, *args, key=key)

    assert run("hello") == {"message": "Hello, World!"}
    record = run("process", "--user-id", "5", "--item-id", "6", "--quantity", "7")
    assert run("records", "get", str(record["record_id"]))["quantity"] == 7
    assert [r["id"] for r in run("records", "list")["items"]] == [record["record_id"]]

    user = run("users", "create", "--name", "Bo", "--email", "bo@x.test", "--age", "3")
    uid = str(user["id"])
    assert run("users", "get", uid)["email"] == "bo@x.test"
    assert run("users", "update", uid, "--name", "Bo B", "--email", "bo@x.test")["age"] is None
    assert run("users", "patch", uid, "--age", "4")["age"] == 4
    assert [u["name"] for u in run("users", "list", "--name-contains", "bo")["items"]] == ["Bo B"]
    assert run("users", "delete", uid) == {"deleted": int(uid)}

    admin = ADMIN.secret
    created = run("clients", "create", "--name", "x", "--scope", "users:read", key=admin)
    assert run("clients", "get", created["client_id"], key=admin)["scopes"] == ["users:read"]
    assert len(run("clients", "list", "--all", key=admin)["items"]) >= 5
    run("clients", "revoke", created["client_id"], key=admin)

    run("destinations", "create", "echo", "--url", downstream.url_for("/ok"), key=admin)
    assert run("destinations", "get", "echo", key=admin)["enabled"] is True
    assert [d["name"] for d in run("destinations", "list", key=admin)["items"]] == ["echo"]
    report = run("dispatch", "--payload", '{"a": 1}')
    assert report["results"][0]["body"]["received"] == {"a": 1}
    done = run("dispatch", "--async", "--wait", "--payload", '{"a": 2}')
    assert done["state"] == "delivered"
    assert run("dispatches", "get", done["id"])["deliveries"][0]["attempt_log"][0]["status"] == 200
    listed = run("dispatches", "list", "--state", "delivered")["items"]
    assert [d["id"] for d in listed] == [done["id"], report["dispatch_id"]]
    run("destinations", "update", "echo", "--patch", '{"timeout_seconds": 1}', key=admin)
    run("destinations", "delete", "echo", key=admin)

    rows = tmp_path / "rows.csv"
    rows.write_text("user_id,item_id,quantity\n1,1,1\n2,2,2\n")
    summary = run("process", "--file", str(rows))
    assert (summary["succeeded"], summary["failed"]) == (2, 0)
    assert len(run("records", "list", "--all")["items"]) == 3

    sent = run(
        "send", "--to", "http://testserver", "--user-id", "1", "--item-id", "1", "--quantity", "1"
    )
    assert sent[0]["status"] == 200
