"""``python -m server clients ...``: the way to create the first admin."""

from __future__ import annotations

import re

import pytest

from bench.soak.service import SCOPES as SOAK_SCOPES
from bench.soak.service import labelled_values
from server.__main__ import main
from tests.config import ClientWith

# ``main`` sets up the process's logging as a server would.
pytestmark = pytest.mark.usefixtures("process_logging_restored")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["clients", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_create_list_revoke(
    database_url: str,
    client_with: ClientWith,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("APP_DATABASE_URL", database_url)
    code, out, _ = run(capsys, "create", "--name", "ops", "--scopes", "users:read admin")
    assert code == 0
    client_id = re.search(r"client_id:\s+(\S+)", out)[1]  # type: ignore[index]
    secret = re.search(r"client_secret:\s+(\S+)", out)[1]  # type: ignore[index]
    assert re.search(r"scopes:\s+users:read admin", out)
    assert "cannot be shown again" in out

    with client_with() as client:
        assert client.get("/api/clients", headers={"X-API-Key": secret}).status_code == 200

    code, out, _ = run(capsys, "list")
    assert code == 0
    assert re.search(rf"^{client_id}\s+active\s+ops\s+users:read admin$", out, re.MULTILINE)
    assert secret not in out

    code, out, _ = run(capsys, "revoke", client_id)
    assert code == 0 and out.startswith(f"revoked {client_id} at ")
    code, out, _ = run(capsys, "list")
    assert re.search(rf"^{client_id}\s+revoked ", out, re.MULTILINE)

    with client_with() as client:
        assert client.get("/api/clients", headers={"X-API-Key": secret}).status_code == 401


def test_the_soak_reads_the_client_it_creates(
    database_url: str,
    client_with: ClientWith,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """bench/soak registers its client with this command and reads its labelled lines."""
    monkeypatch.setenv("APP_DATABASE_URL", database_url)
    code, out, _ = run(capsys, "create", "--name", "soak", "--scopes", SOAK_SCOPES)
    assert code == 0
    created = labelled_values(out)
    assert set(created) == {"client_id", "client_secret"}
    assert created["client_secret"].startswith(created["client_id"] + ".")
    with client_with() as client:
        key = {"X-API-Key": created["client_secret"]}
        assert client.get("/api/records", headers=key).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--name", "x", "--scopes", "root"], "unknown scope 'root'"),
        (["revoke", "c_0000000000000000"], "There is no client 'c_0000000000000000'."),
    ],
)
def test_errors_are_one_line_and_exit_2(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setenv("APP_DATABASE_URL", database_url)
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
