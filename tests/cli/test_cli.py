"""The command-line client, command by command, against a live service on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.errors import transport_problem
from cli.main import main
from tests.downstream import Downstream
from tests.e2e.conftest import LiveServer, seeded_server
from tests.identities import ADMIN, ALICE
from tests.json_service import JsonService


def run(capsys: pytest.CaptureFixture[str], *args: str, **preset: Any) -> tuple[int, str, str]:
    code = main(list(args), **preset)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def as_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run(capsys, "-o", "json", *args)
    assert code == 0, err
    return json.loads(out)


class TestSingleCommands:
    def test_hello(self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer) -> None:
        code, out, _ = run(capsys, "hello")
        assert code == 0
        assert "Hello, World!" in out
        assert as_json(capsys, "hello") == {"message": "Hello, World!"}

    def test_process_one_record(
        self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer
    ) -> None:
        answer = as_json(capsys, "process", "--user-id", "1", "--item-id", "2", "--quantity", "3")
        assert answer["result"] == {"user_id": 1, "item_id": 2, "quantity": 6}
        record = as_json(capsys, "records", "get", str(answer["record_id"]))
        assert record["quantity"] == 3
        listed = as_json(capsys, "records", "list", "--all")["items"]
        assert answer["record_id"] in [r["id"] for r in listed]

    def test_a_list_says_where_the_next_page_starts(
        self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer
    ) -> None:
        made = [
            as_json(capsys, "users", "create", "--name", f"Page {n}", "--email", f"p{n}@cli.test")
            for n in range(3)
        ]
        first = as_json(capsys, "users", "list", "--name-contains", "Page", "--limit", "2")
        assert len(first["items"]) == 2 and first["next_cursor"]
        rest = as_json(
            capsys, "users", "list", "--name-contains", "Page", "--cursor", first["next_cursor"]
        )
        assert (len(rest["items"]), rest["next_cursor"]) == (1, None)
        code, out, err = run(capsys, "users", "list", "--name-contains", "Page", "--limit", "2")
        assert code == 0 and "Page" in out
        assert f"more: --cursor {first['next_cursor']}" in err.replace("\n", "")
        for user in made:  # the module's service is shared: leave Alice no users
            as_json(capsys, "users", "delete", str(user["id"]))

    def test_users_from_create_to_delete(
        self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer
    ) -> None:
        user = as_json(capsys, "users", "create", "--name", "Ada", "--email", "ada@cli.test")
        user_id = str(user["id"])
        assert as_json(capsys, "users", "get", user_id)["name"] == "Ada"
        replaced = as_json(
            capsys, "users", "update", user_id, "--name", "Ada L", "--email", "ada@cli.test",
            "--age", "36",
        )  # fmt: skip
        assert (replaced["name"], replaced["age"]) == ("Ada L", 36)
        assert as_json(capsys, "users", "patch", user_id, "--clear-age")["age"] is None
        found = as_json(capsys, "users", "list", "--email", "ada@cli.test", "--all")["items"]
        assert [u["id"] for u in found] == [user["id"]]
        assert as_json(capsys, "users", "delete", user_id) == {"deleted": int(user_id)}
        code, out, err = run(capsys, "users", "get", user_id)
        assert (code, out) == (1, "")
        assert err.strip() == f"error: 404 Not Found: There is no user {user_id}."

    def test_a_refusal_is_one_line_with_exit_code_1(
        self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer
    ) -> None:
        code, _, err = run(capsys, "process", "--user-id", "1", "--item-id", "2", "--quantity", "0")
        assert code == 1
        assert err.strip() == "error: 400 Validation failed: quantity: must be at least 1"

    def test_admin_commands(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        as_alice: LiveServer,
        downstream: Downstream,
    ) -> None:
        code, _, err = run(capsys, "clients", "list")
        assert code == 1 and err.startswith("error: 403 Forbidden")
        monkeypatch.setenv("CONTRACT_API_KEY", ADMIN.secret)
        created = as_json(
            capsys, "clients", "create", "--name", "batch", "--scope", "process:write"
        )
        assert created["client_secret"].startswith(created["client_id"])
        assert as_json(capsys, "clients", "get", created["client_id"])["name"] == "batch"
        assert created["client_id"] in [
            c["client_id"] for c in as_json(capsys, "clients", "list", "--all")["items"]
        ]
        revoked = as_json(capsys, "clients", "revoke", created["client_id"])
        assert revoked["client_id"] == created["client_id"] and revoked["revoked_at"]

        url = downstream.url_for("/ok")
        made = as_json(
            capsys, "destinations", "create", "echo", "--url", url, "--timeout-seconds", "2",
            "--settings", '{"retry": {"max_attempts": 2}}',
        )  # fmt: skip
        assert (made["timeout_seconds"], made["retry"]["max_attempts"]) == (2, 2)
        assert made["signing_secret"].startswith("whsec_")  # shown once, here
        assert "signing_secret" not in as_json(capsys, "destinations", "get", "echo")
        rotated = as_json(capsys, "destinations", "rotate-secret", "echo", "--overlap-seconds", "0")
        assert rotated["signing_secret"] not in ("", made["signing_secret"])
        assert rotated["signing"]["previous_secret_expires_at"] is None
        assert as_json(capsys, "destinations", "get", "echo")["circuit"]["state"] == "closed"
        assert [d["name"] for d in as_json(capsys, "destinations", "list")["items"]] == ["echo"]
        report = as_json(capsys, "dispatch", "--payload", '{"order": 7}', "--to", "echo")
        assert report["summary"] == "complete"
        assert report["results"][0]["body"]["received"] == {"order": 7}
        code, out, _ = run(capsys, "dispatch", "--payload", '{"order": 8}')
        assert code == 0 and "echo" in out and "succeeded" in out
        changed = as_json(capsys, "destinations", "update", "echo", "--patch", '{"enabled": false}')
        assert changed["enabled"] is False
        code, _, err = run(capsys, "dispatch", "--payload", "{}")
        assert code == 1 and "409 Conflict" in err
        assert as_json(capsys, "destinations", "delete", "echo") == {"deleted": "echo"}


class TestCredentials:
    def test_client_credentials_get_a_cached_token(
        self, capsys: pytest.CaptureFixture[str], service: LiveServer, tmp_path: Path
    ) -> None:
        flags = ["--base-url", service.url, "--client-id", ALICE.client_id,
                 "--client-secret", ALICE.secret]  # fmt: skip
        first = as_json(capsys, *flags, "token")["access_token"]
        cache = tmp_path / "cache" / "contract-api" / "tokens.json"
        assert cache.stat().st_mode & 0o777 == 0o600
        assert as_json(capsys, *flags, "token")["access_token"] == first
        assert as_json(capsys, *flags, "hello") == {"message": "Hello, World!"}
        assert as_json(capsys, *flags, "users", "list") == {"items": [], "next_cursor": None}
        assert as_json(capsys, *flags, "token", "--fresh")["access_token"] != ""

    def test_a_config_file(
        self, capsys: pytest.CaptureFixture[str], service: LiveServer, tmp_path: Path
    ) -> None:
        folder = tmp_path / "config" / "contract-api"
        folder.mkdir(parents=True)
        (folder / "config.toml").write_text(
            f'base_url = "{service.url}"\napi_key = "{ALICE.secret}"\noutput = "json"\n'
        )
        code, out, _ = run(capsys, "users", "list")
        assert (code, json.loads(out)) == (0, {"items": [], "next_cursor": None})

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["-o", "yaml", "hello"], "output must be table or json"),
            (["--api-key", "k", "--client-id", "c", "--client-secret", "s", "hello"], "not both"),
            (["--client-id", "c", "hello"], "go together"),
            (["--base-url", "ftp://x", "hello"], "must start with http"),
            (["--config", "/nonexistent.toml", "hello"], "does not exist"),
            (["process", "--user-id", "1"], "needs --user-id, --item-id and --quantity"),
            (["dispatch", "--payload", "{oops"], "--payload is not valid JSON"),
        ],
    )
    def test_configuration_errors_exit_2(
        self, capsys: pytest.CaptureFixture[str], args: list[str], message: str
    ) -> None:
        code, _, err = run(capsys, *args)
        assert code == 2
        assert message in err
        assert "Traceback" not in err

    def test_usage_errors_exit_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, err = run(capsys, "users", "frob")
        assert code == 2
        assert "No such command" in err


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.fixture
def html_port() -> Iterator[int]:
    """Answers every request with a proxy's HTML error page."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    page = b"<html><body>Bad gateway</body></html>"

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: "
                    + str(len(page)).encode() + b"\r\nConnection: close\r\n\r\n" + page
                )  # fmt: skip

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


class TestTransportErrors:
    def test_connection_refused(self, capsys: pytest.CaptureFixture[str]) -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
            code, _, err = run(capsys, "--base-url", f"http://127.0.0.1:{port}", "hello")
        assert code == 1
        assert err.strip() == (
            f"error: connection refused by http://127.0.0.1:{port} (is the service running?)"
        )

    def test_timeout(self, capsys: pytest.CaptureFixture[str], silent_port: int) -> None:
        url = f"http://127.0.0.1:{silent_port}"
        code, _, err = run(capsys, "--base-url", url, "--timeout", "0.3", "hello")
        assert code == 1
        assert err.strip() == f"error: no answer from {url} in time (ReadTimeout)"

    def test_an_answer_that_is_not_json(
        self, capsys: pytest.CaptureFixture[str], html_port: int
    ) -> None:
        code, _, err = run(capsys, "--base-url", f"http://127.0.0.1:{html_port}", "hello")
        assert code == 1
        assert err.strip() == "error: 502: the answer is not JSON (text/html)"

    @pytest.mark.parametrize(
        ("error", "line"),
        [
            (
                httpx.ConnectError("[Errno -2] Name or service not known"),
                "cannot resolve the host of U",
            ),
            (
                httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
                "TLS failed with U: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
            ),
            (httpx.ConnectTimeout("timed out"), "cannot connect to U: timed out"),
        ],
    )
    def test_name_resolution_and_tls_lines(self, error: Exception, line: str) -> None:
        # Without sending anything off loopback: the exceptions httpx raises for them.
        assert transport_problem(error, "U") == line


class TestBatch:
    def test_failed_rows_go_to_a_file_and_a_rerun_is_idempotent(
        self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer, tmp_path: Path
    ) -> None:
        data = tmp_path / "rows.csv"
        data.write_text("user_id,item_id,quantity\n1,10,1\n2,20,0\n3,x,3\n4,40,4\n")
        code, out, _ = run(capsys, "process", "--file", str(data))
        assert code == 1
        assert "succeeded" in out and "rows.failed.jsonl" in out
        failed = tmp_path / "rows.failed.jsonl"
        assert [json.loads(line) for line in failed.read_text().splitlines()] == [
            {"user_id": 2, "item_id": 20, "quantity": 0},
            {"user_id": 3, "item_id": "x", "quantity": 3},
        ]
        before = len(as_json(capsys, "records", "list", "--all")["items"])
        code, out, _ = run(capsys, "-o", "json", "process", "--file", str(data))
        summary = json.loads(out)
        assert (code, summary["succeeded"], summary["failed"]) == (1, 2, 2)
        assert len(as_json(capsys, "records", "list", "--all")["items"]) == before  # replays only

    def test_a_row_with_unknown_columns_is_refused_not_cut_down(
        self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer, tmp_path: Path
    ) -> None:
        # The API refuses unknown fields; the batch used to drop them and send the rest.
        data = tmp_path / "extra.csv"
        data.write_text("user_id,item_id,quantity,note\n1,2,3,gift\n")
        summary = json.loads(run(capsys, "-o", "json", "process", "--file", str(data))[1])
        assert (summary["succeeded"], summary["failed"]) == (0, 1)
        assert "unknown field(s): note" in summary["results"][0]["result"]
        cells = tmp_path / "cells.csv"
        cells.write_text("user_id,item_id,quantity\n1,2,3,surplus\n4,5,6\n")
        summary = json.loads(run(capsys, "-o", "json", "process", "--file", str(cells))[1])
        assert (summary["succeeded"], summary["failed"]) == (1, 1)
        assert "beyond the header" in summary["results"][0]["result"]

    def test_rows_fixed_by_hand_are_never_overwritten_and_a_clean_run_tidies_up(
        self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer, tmp_path: Path
    ) -> None:
        orders = tmp_path / "orders.csv"
        orders.write_text("user_id,item_id,quantity\n1,71,0\n")
        assert run(capsys, "process", "--file", str(orders))[0] == 1
        failed = tmp_path / "orders.failed.jsonl"
        fixed = '{"user_id": 1, "item_id": 71, "quantity": 5}\n'
        failed.write_text(fixed)  # fixed by hand, not sent yet
        assert run(capsys, "process", "--file", str(orders))[0] == 1  # the same failure
        assert failed.read_text() == fixed  # left as it is
        assert (tmp_path / "orders.failed-2.jsonl").exists()
        # The fixed file goes through: no orders.failed.failed.jsonl, and it is tidied away.
        code, out, _ = run(capsys, "-o", "json", "process", "--file", str(failed))
        assert code == 0
        assert "removed orders.failed.jsonl" in json.loads(out)["note"]
        assert not failed.exists()
        assert not (tmp_path / "orders.failed.failed.jsonl").exists()

    def test_as_new_sends_a_repeated_record_again(
        self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer, tmp_path: Path
    ) -> None:
        data = tmp_path / "again.jsonl"
        data.write_text('{"user_id": 1, "item_id": 72, "quantity": 2}\n')
        first = json.loads(run(capsys, "-o", "json", "process", "--file", str(data))[1])
        replay = json.loads(run(capsys, "-o", "json", "process", "--file", str(data))[1])
        assert replay["results"][0]["result"] == first["results"][0]["result"]  # replayed
        code, out, _ = run(capsys, "-o", "json", "process", "--file", str(data), "--as-new")
        assert code == 0
        assert json.loads(out)["results"][0]["result"] != first["results"][0]["result"]

    def test_rows_refused_for_a_while_succeed_when_sent_again(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with seeded_server(tmp_path, APP_RATE_LIMIT="6/second") as server:
            monkeypatch.setenv("CONTRACT_API_URL", server.url)
            monkeypatch.setenv("CONTRACT_API_KEY", ALICE.secret)
            data = tmp_path / "rows.jsonl"
            data.write_text(
                "".join(
                    json.dumps({"user_id": n, "item_id": 1, "quantity": n}) + "\n"
                    for n in range(1, 11)
                )
            )
            time.sleep(1.0 - time.time() % 1.0)  # a fresh one-second window
            code, out, _ = run(capsys, "-o", "json", "process", "--file", str(data))
            first = json.loads(out)
            assert (code, first["succeeded"], first["failed"]) == (1, 6, 4)
            assert {r["status"] for r in first["results"]} == {"200", "429"}
            failed = Path(first["failed_rows_file"])
            time.sleep(1.1)
            code, out, _ = run(capsys, "-o", "json", "process", "--file", str(failed))
            assert (code, json.loads(out)["succeeded"]) == (0, 4)
            time.sleep(1.1)
            records = as_json(capsys, "--api-key", ADMIN.secret, "records", "list", "--all")[
                "items"
            ]
            assert sorted(r["quantity"] for r in records) == list(range(1, 11))

    def test_no_service_fails_every_row_and_keeps_them_all(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        data = tmp_path / "rows.jsonl"
        data.write_text('{"user_id": 1, "item_id": 1, "quantity": 1}\n\n')
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{unused.getsockname()[1]}"
            code, out, _ = run(
                capsys, "--base-url", url, "-o", "json", "process", "--file", str(data)
            )
        report = json.loads(out)
        assert (code, report["failed"]) == (1, 1)
        assert report["results"][0]["status"] == "-"
        assert "connection refused" in report["results"][0]["result"]
        assert (tmp_path / "rows.failed.jsonl").read_text() == (
            '{"user_id": 1, "item_id": 1, "quantity": 1}\n'
        )

    def test_a_file_of_another_kind_is_a_usage_error(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        data = tmp_path / "rows.txt"
        data.write_text("1 2 3\n")
        code, _, err = run(capsys, "process", "--file", str(data))
        assert code == 2 and "give a .csv or .jsonl file" in err


class TestSend:
    def test_one_record_to_several_services(
        self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer
    ) -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            dead = f"http://127.0.0.1:{unused.getsockname()[1]}"
            code, out, _ = run(
                capsys, "-o", "json", "send", "--to", as_alice.url, "--to", dead,
                "--user-id", "1", "--item-id", "2", "--quantity", "3",
            )  # fmt: skip
        assert code == 1
        live, down = json.loads(out)
        assert (live["service"], live["status"]) == (as_alice.url, 200)
        assert '"quantity": 6' in live["answer"]
        assert (down["status"], down["answer"]) == (
            0,
            f"connection refused by {dead} (is the service running?)",
        )
        assert live["latency_ms"] > 0


@pytest.fixture
def tutorial_service() -> Iterator[JsonService]:
    """The tutorial's Flask service, as far as ``send`` sees it: any POST is a 201 with
    its own JSON."""
    answer = {"message": "Data received", "data": {"quantity": 3}}
    with JsonService(201, answer).running() as service:
        yield service


def send(capsys: pytest.CaptureFixture[str], *options: str) -> list[dict[str, Any]]:
    """``send`` one record with ``options`` (the --to ...); its answers, which must all
    count as delivered."""
    code, out, err = run(
        capsys,
        "-o",
        "json",
        "send",
        *options,
        "--user-id",
        "1",
        "--item-id",
        "2",
        "--quantity",
        "3",
    )
    assert code == 0, err
    answers: list[dict[str, Any]] = json.loads(out)
    return answers


class TestSendToOtherServices:
    def test_an_undocumented_success_is_shown_not_a_traceback(
        self,
        capsys: pytest.CaptureFixture[str],
        as_alice: LiveServer,
        tutorial_service: JsonService,
    ) -> None:
        # Before: AttributeError: 'NoneType' object has no attribute 'result'.
        [answer] = send(capsys, "--to", tutorial_service.url)
        assert answer["status"] == 201
        assert "Data received" in answer["answer"]

    def test_the_key_goes_only_to_the_configured_service(
        self,
        capsys: pytest.CaptureFixture[str],
        as_alice: LiveServer,
        tutorial_service: JsonService,
    ) -> None:
        ours, theirs = send(capsys, "--to", as_alice.url, "--to", tutorial_service.url)
        assert ours["status"] == 200  # authenticated with the configured key
        assert theirs["status"] == 201
        [headers] = tutorial_service.seen
        assert "x-api-key" not in headers
        assert "authorization" not in headers
        assert ALICE.secret not in json.dumps(headers)

    def test_a_service_named_with_its_own_key_gets_that_key_only(
        self,
        capsys: pytest.CaptureFixture[str],
        as_alice: LiveServer,
        tutorial_service: JsonService,
    ) -> None:
        url = tutorial_service.url
        send(capsys, "--to", url, "--to-key", f"{url}/=theirs-123")
        [headers] = tutorial_service.seen
        assert headers["x-api-key"] == "theirs-123"
        assert ALICE.secret not in json.dumps(headers)


QUICK_DELIVERY = '{"delivery": {"max_attempts": 2, "initial_backoff_seconds": 0.1}}'


class TestDispatches:
    """``dispatch --async`` and ``dispatches list|get|retry``: Alice dispatches, Bob-free."""

    @pytest.fixture
    def destinations(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        as_alice: LiveServer,
        downstream: Downstream,
    ) -> Iterator[None]:
        """``billing`` answers 200, ``gone`` 410 (its delivery ends dead at once)."""
        admin = ["--api-key", ADMIN.secret]
        made = as_json(
            capsys, *admin, "destinations", "create", "billing",
            "--url", downstream.url_for("/ok"), "--settings", QUICK_DELIVERY,
        )  # fmt: skip
        assert made["delivery"]["max_attempts"] == 2
        assert made["delivery"]["initial_backoff_seconds"] == 0.1
        as_json(capsys, *admin, "destinations", "create", "gone",
                "--url", downstream.url_for("/status/410"))  # fmt: skip
        yield
        for name in ("billing", "gone"):  # the module's service is shared
            as_json(capsys, *admin, "destinations", "delete", name)

    def test_async_prints_the_accepted_dispatch_and_wait_follows_it(
        self, capsys: pytest.CaptureFixture[str], destinations: None
    ) -> None:
        code, out, err = run(capsys, "dispatch", "--async", "--payload", '{"order": 1}')
        assert code == 0, err
        assert "dispatch dsp_" in out and "(async): pending" in out
        assert "billing" in out and "gone" in out
        accepted = as_json(capsys, "dispatch", "--async", "--payload", "{}", "--to", "billing")
        assert accepted["id"].startswith("dsp_") and accepted["mode"] == "async"
        assert [(d["destination"], d["state"]) for d in accepted["deliveries"]] == [
            ("billing", "pending")
        ]
        done = as_json(
            capsys, "dispatch", "--async", "--wait", "--payload", "{}", "--to", "billing"
        )
        assert done["state"] == "delivered"
        assert done["deliveries"][0]["last_status"] == 200
        # A delivery that ends dead makes --wait fail, with the table to say why.
        code, out, _ = run(capsys, "dispatch", "--async", "--wait", "--payload", "{}")
        assert code == 1
        assert "failed" in out and "dead" in out and "410" in out

    def test_wait_gives_up_at_its_timeout(
        self, capsys: pytest.CaptureFixture[str], destinations: None, downstream: Downstream
    ) -> None:
        as_json(capsys, "--api-key", ADMIN.secret, "destinations", "create", "slow",
                "--url", downstream.url_for("/slow/2"))  # fmt: skip
        try:
            code, _, err = run(
                capsys, "dispatch", "--async", "--wait", "--wait-timeout", "0.3",
                "--payload", "{}", "--to", "slow",
            )  # fmt: skip
            assert code == 1
            assert "still pending after 0.3 s: contract-api dispatches get dsp_" in err
        finally:
            as_json(capsys, "--api-key", ADMIN.secret, "destinations", "delete", "slow")

    def test_list_get_and_retry(
        self, capsys: pytest.CaptureFixture[str], destinations: None
    ) -> None:
        code, out, _ = run(
            capsys, "-o", "json", "dispatch", "--async", "--wait", "--payload", "{}", "--to", "gone"
        )
        assert code == 1  # settled, but not delivered
        dispatch_id = json.loads(out)["id"]
        listed = as_json(capsys, "dispatches", "list", "--state", "failed", "--all")["items"]
        assert dispatch_id in [d["id"] for d in listed]
        assert {d["state"] for d in listed} == {"failed"}
        only_gone = as_json(capsys, "dispatches", "list", "--destination", "billing")["items"]
        assert dispatch_id not in [d["id"] for d in only_gone]
        assert run(capsys, "dispatch", "--async", "--wait", "--payload", "{}")[0] == 1
        code, out, _ = run(capsys, "dispatches", "list", "--limit", "1")  # that one
        assert code == 0 and "billing: delivered, gone: dead" in out

        code, out, _ = run(capsys, "dispatches", "get", dispatch_id)
        assert code == 0
        assert f"dispatch {dispatch_id} (async): failed" in out
        assert "attempts" in out and "http_error" in out and "410" in out
        found = as_json(capsys, "dispatches", "get", dispatch_id)
        [delivery] = found["deliveries"]
        assert [a["status"] for a in delivery["attempt_log"]] == [410]

        retried = as_json(capsys, "dispatches", "retry", dispatch_id)
        assert retried["state"] == "pending"
        assert retried["deliveries"][0]["state"] == "pending"

    def test_errors_are_one_line_with_exit_code_1(
        self, capsys: pytest.CaptureFixture[str], destinations: None
    ) -> None:
        unknown = "dsp_" + "0" * 32
        code, out, err = run(capsys, "dispatches", "get", unknown)
        assert (code, out) == (1, "")
        assert err.startswith("error: 404 Not Found")
        code, _, err = run(capsys, "dispatches", "retry", unknown)
        assert code == 1 and err.startswith("error: 404 Not Found")
        delivered = as_json(
            capsys, "dispatch", "--async", "--wait", "--payload", "{}", "--to", "billing"
        )
        code, _, err = run(capsys, "dispatches", "retry", delivered["id"])
        assert code == 1
        assert err.strip() == (
            "error: 409 Conflict: The dispatch has no failed or dead delivery to retry."
        )

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["dispatch", "--wait", "--payload", "{}"], "--wait goes with --async"),
            (["dispatches", "list", "--state", "lost"], "'lost' is not one of"),
        ],
    )
    def test_usage_errors_exit_2(
        self, capsys: pytest.CaptureFixture[str], as_alice: LiveServer, args: list[str],
        message: str,
    ) -> None:  # fmt: skip
        code, _, err = run(capsys, *args)
        assert code == 2 and message in err

    def test_a_service_ignoring_the_preference_shows_its_report(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # A service from before asynchronous dispatch answers 200 with the report.
        report = {
            "request_id": "r1", "summary": "complete", "succeeded": 1, "failed": 0,
            "results": [{"destination": "billing", "webhook_id": "msg_1",
                         "outcome": "succeeded", "status": 200, "latency_ms": 1.0,
                         "attempts": 1, "body": None}],
        }  # fmt: skip
        seen: list[httpx.Request] = []

        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, json=report)

        code, out, err = run(
            capsys, "--base-url", "http://old.test", "--api-key", "k", "dispatch", "--async",
            "--payload", "{}", transport=httpx.MockTransport(answer),
        )  # fmt: skip
        assert code == 0, err
        assert seen[0].headers["prefer"] == "respond-async"
        assert "note: the service dispatched synchronously" in err
        assert "dispatch r1: complete" in out and "billing" in out
