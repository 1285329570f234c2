"""A destination's own header fields (an ``Authorization`` value): sent with every request
to it, synchronous or not, and write-only: no answer and no log line ever holds a value,
error paths included (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from tests.conftest import BACKENDS
from tests.downstream import Downstream
from tests.identities import ADMIN, ALICE

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

SECRET_VALUE = "Bearer sentinel-7f3a9c-never-shown"
MERGE_PATCH = {"content-type": "application/merge-patch+json"}


def create(client: TestClient, **fields: Any) -> Any:
    return client.post("/api/destinations", json=fields, headers=ADMIN.headers)


def patch(client: TestClient, name: str, body: dict[str, Any]) -> Any:
    return client.patch(
        f"/api/destinations/{name}",
        content=orjson.dumps(body),
        headers={**ADMIN.headers, **MERGE_PATCH},
    )


def assert_never_shown(*texts: str) -> None:
    for text in texts:
        assert "sentinel-7f3a9c" not in text


class TestWriteOnlyHeaders:
    def test_sent_with_every_request_and_never_answered_or_logged(
        self,
        client: TestClient,
        downstream: Downstream,
        caplog: pytest.LogCaptureFixture,
        request_log: list[dict[str, Any]],
    ) -> None:
        caplog.set_level(logging.DEBUG)
        made = create(
            client,
            name="billing",
            url=downstream.url_for("/ok"),
            headers=[
                {"name": "Authorization", "value": SECRET_VALUE},
                {"name": "X-Tenant", "value": "acme"},
            ],
        )
        assert made.status_code == 201, made.text
        assert made.json()["header_names"] == ["authorization", "x-tenant"]
        failing = create(
            client,
            name="leaky",
            url=downstream.url_for("/leak"),
            headers=[{"name": "Authorization", "value": SECRET_VALUE}],
            delivery={"max_attempts": 1},
        )
        answers = [
            made.text,
            failing.text,
            client.get("/api/destinations/billing", headers=ADMIN.headers).text,
            client.get("/api/destinations", headers=ADMIN.headers).text,
            patch(client, "billing", {"timeout_seconds": 3}).text,
            client.post(
                "/api/destinations/billing/rotate-secret", json={}, headers=ADMIN.headers
            ).text,
        ]
        for who in (ALICE, ADMIN):  # admins read failures' whole story: not this either
            report = client.post("/api/dispatch", json={"payload": {}}, headers=who.headers)
            answers.append(report.text)
            accepted = client.post(
                "/api/dispatch",
                json={"payload": {}},
                headers={**who.headers, "Prefer": "respond-async"},
            )
            assert accepted.status_code == 202
            deadline = time.monotonic() + 10
            location = accepted.headers["location"]
            while client.get(location, headers=who.headers).json()["state"] == "pending":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            answers.append(client.get(location, headers=who.headers).text)
            answers.append(client.get("/api/dispatches", headers=who.headers).text)
        sent = [seen["headers"] for seen in downstream.seen]
        assert len(sent) == 8  # two destinations, two callers, sync and async
        assert all(headers["authorization"] == SECRET_VALUE for headers in sent)
        assert_never_shown(*answers)
        assert_never_shown(caplog.text, orjson.dumps(request_log, default=str).decode())

    def test_a_patch_sets_and_removes_fields_and_keeps_the_others(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(
            client,
            name="billing",
            url=downstream.url_for("/ok"),
            headers=[
                {"name": "Authorization", "value": SECRET_VALUE},
                {"name": "X-Tenant", "value": "acme"},
            ],
        )
        changes = [
            {"name": "x-tenant", "value": None},
            {"name": "X-Region", "value": "west"},
            {"name": "X-Nope", "value": None},
            {"name": "x-region", "value": "eu"},  # the last one wins
        ]
        changed = patch(client, "billing", {"headers": changes})
        assert changed.status_code == 200, changed.text
        assert changed.json()["header_names"] == ["authorization", "x-region"]
        client.post("/api/dispatch", json={"payload": {}}, headers=ALICE.headers)
        (seen,) = downstream.seen
        assert seen["headers"]["authorization"] == SECRET_VALUE
        assert seen["headers"]["x-region"] == "eu"
        assert "x-tenant" not in seen["headers"]

    @pytest.mark.parametrize(
        "name",
        ["Host", "Content-Type", "content-length", "Transfer-Encoding", "Connection",
         "User-Agent", "Accept", "X-Request-ID", "Idempotency-Key", "Webhook-Signature",
         "webhook-id", "Proxy-Authorization", "bad name", "x:y", "ñ", "a" * 101],
    )  # fmt: skip
    def test_names_the_gateway_sets_or_that_are_no_token_are_refused_by_name(
        self, client: TestClient, downstream: Downstream, name: str
    ) -> None:
        refused = create(
            client,
            name="billing",
            url=downstream.url_for("/ok"),
            headers=[{"name": name, "value": SECRET_VALUE}],
        )
        assert refused.status_code == 400, refused.text
        errors = refused.json()["errors"]  # a name too long breaks the length too
        assert {error["field"] for error in errors} == {"headers.0.name"}
        token = all(c.isascii() and (c.isalnum() or c in "-_.") for c in name) and len(name) <= 100
        reason = "header field the gateway sets" if token else "must be an HTTP token"
        assert any(reason in error["message"] for error in errors)
        assert_never_shown(refused.text)

    def test_names_the_spec_lets_through_the_service_takes(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        names = ["tea", "Hostname", "X-Content", "contents", "a" * 100, "!#$%&'*+.^_`|~"]
        made = create(
            client,
            name="billing",
            url=downstream.url_for("/ok"),
            headers=[{"name": name, "value": "v"} for name in names],
        )
        assert made.status_code == 201, made.text
        assert made.json()["header_names"] == sorted(name.lower() for name in names)

    def test_a_destination_holds_twenty_at_most(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        twenty = [{"name": f"x-{n}", "value": "v"} for n in range(20)]
        assert (
            create(client, name="full", url=downstream.url_for("/ok"), headers=twenty).status_code
            == 201
        )
        more = patch(client, "full", {"headers": [{"name": "x-more", "value": "v"}]})
        assert more.status_code == 409
        swap = [{"name": "x-0", "value": None}, {"name": "x-more", "value": "v"}]
        assert patch(client, "full", {"headers": swap}).status_code == 200

    @pytest.mark.parametrize(
        "value",
        [
            "line\r\nsentinel-7f3a9c",
            "señal sentinel-7f3a9c",
            " sentinel-7f3a9c",
            "sentinel-7f3a9c ",
            "",
            "sentinel-7f3a9c" + "x" * 4090,
            42,
        ],
    )
    def test_values_that_cannot_be_sent_are_refused_without_being_echoed(
        self, client: TestClient, downstream: Downstream, value: Any
    ) -> None:
        marked = value
        refused = create(
            client,
            name="billing",
            url=downstream.url_for("/ok"),
            headers=[{"name": "Authorization", "value": marked}],
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"][0]["field"].startswith("headers")
        assert_never_shown(refused.text)
