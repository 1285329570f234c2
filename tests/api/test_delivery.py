"""Asynchronous dispatch and durable delivery (``Prefer: respond-async``), on SQLite and
PostgreSQL: the 202 and what it stored, delivery after a destination comes back, the
schedule running out and ``retry``, ``Retry-After`` and ``410``, the record of synchronous
dispatches, tenants, idempotent acceptance, and what the workers do with a lease that ran
out and at shutdown."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from standardwebhooks import Webhook
from starlette.testclient import TestClient

from server.persistence.dispatches import attempts, claim, deliveries, dispatches
from server.settings import Settings
from tests.api.helpers import create_destination
from tests.config import ClientWith, make_settings
from tests.conftest import BACKENDS
from tests.downstream import Downstream, bound_socket, running
from tests.identities import ADMIN, ALICE, BOB, Identity, write_database

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

ASYNC = {"Prefer": "respond-async"}
QUICK = {"initial_backoff_seconds": 0.1, "max_backoff_seconds": 0.2}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, delivery_poll_seconds=0.05, delivery_lease_seconds=2)


create = create_destination


def accept(client: TestClient, who: Identity = ALICE, **body: Any) -> dict[str, Any]:
    answer = client.post(
        "/api/dispatch",
        json={"payload": {"order": 1}, **body},
        headers={**who.headers, **ASYNC},
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["preference-applied"] == "respond-async"
    dispatch: dict[str, Any] = answer.json()
    assert answer.headers["location"] == f"/api/dispatches/{dispatch['id']}"
    return dispatch


def settled(
    client: TestClient, dispatch_id: str, who: Identity = ALICE, seconds: float = 15
) -> dict[str, Any]:
    """The dispatch once no delivery is open any more (the test fails if that never comes)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = client.get(f"/api/dispatches/{dispatch_id}", headers=who.headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if body["state"] != "pending" or time.monotonic() > deadline:
            assert body["state"] != "pending", body
            return body
        time.sleep(0.05)


def by_destination(dispatch: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {part["destination"]: part for part in dispatch["deliveries"]}


class TestAccepting:
    def test_202_stores_the_dispatch_and_a_pending_delivery_per_destination(
        self, client: TestClient, downstream: Downstream, settings: Settings
    ) -> None:
        create(client, "billing", downstream.url_for("/ok"))
        create(client, "audit", downstream.url_for("/empty"))
        dispatch = accept(client)
        assert dispatch["mode"] == "async"
        assert dispatch["state"] == "pending"
        assert sorted(by_destination(dispatch)) == ["audit", "billing"]
        for part in dispatch["deliveries"]:
            assert part["state"] == "pending"
            assert part["attempts"] == 0
            assert part["webhook_id"].startswith("msg_")
        done = settled(client, dispatch["id"])
        assert done["state"] == "delivered"
        assert {part["state"] for part in done["deliveries"]} == {"delivered"}
        assert sorted(seen["path"] for seen in downstream.seen) == ["/empty", "/ok"]

    def test_deliveries_ending_at_once_settle_their_dispatch(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        # Twelve deliveries of one dispatch end within milliseconds of one another, each in
        # its own transaction: none may read another as still open for good.
        for n in range(12):
            create(client, f"d{n}", downstream.url_for(f"/ok/{n}"))
        done = settled(client, accept(client)["id"])
        assert done["state"] == "delivered"
        assert len(done["deliveries"]) == 12

    def test_one_tenants_backlog_delays_anothers_delivery_by_a_round_not_the_backlog(
        self, client_with: ClientWith, downstream: Downstream
    ) -> None:
        with client_with(headers=ALICE.headers, delivery_concurrency=2) as client:
            create(client, "slow", downstream.url_for("/slow/0.5"))
            backlog = [accept(client, payload={"n": n})["id"] for n in range(20)]
            bobs = accept(client, BOB)["id"]
            done = settled(client, bobs, BOB)
            part = by_destination(done)["slow"]
            waited = datetime.fromisoformat(part["delivered_at"]) - datetime.fromisoformat(
                done["created_at"]
            )
            # First come first served would take 20 / 2 slots x 0.5 s = 5 s.
            assert waited < timedelta(seconds=2.5), waited
            left = client.get("/api/dispatches?state=pending&limit=100").json()["items"]
            assert len(left) > 5  # Alice's backlog is still being worked off
            for dispatch_id in backlog:
                settled(client, dispatch_id)

    def test_the_202_does_not_wait_for_any_destination(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(client, "slow", downstream.url_for("/slow/3"), timeout_seconds=5)
        started = time.perf_counter()
        accept(client)
        assert time.perf_counter() - started < 1.5

    @pytest.mark.parametrize(
        "prefer", ["respond-async", "RESPOND-ASYNC", "wait=5, respond-async", "respond-async; x=1"]
    )
    def test_prefer_is_read_as_rfc_7240_says(
        self, client: TestClient, downstream: Downstream, prefer: str
    ) -> None:
        create(client, "billing", downstream.url_for("/ok"))
        answer = client.post(
            "/api/dispatch", json={"payload": {}}, headers={**ALICE.headers, "Prefer": prefer}
        )
        assert answer.status_code == 202, answer.text

    @pytest.mark.parametrize("prefer", ["respond-asynchronously", "return=minimal", "wait=1"])
    def test_other_preferences_keep_the_call_synchronous(
        self, client: TestClient, downstream: Downstream, prefer: str
    ) -> None:
        create(client, "billing", downstream.url_for("/ok"))
        answer = client.post(
            "/api/dispatch", json={"payload": {}}, headers={**ALICE.headers, "Prefer": prefer}
        )
        assert answer.status_code == 200, answer.text
        assert "preference-applied" not in answer.headers

    def test_unknown_destinations_are_refused_before_anything_is_stored(
        self, client: TestClient, downstream: Downstream, settings: Settings
    ) -> None:
        create(client, "billing", downstream.url_for("/ok"))
        answer = client.post(
            "/api/dispatch",
            json={"payload": {}, "destinations": ["billing", "nope"]},
            headers={**ALICE.headers, **ASYNC},
        )
        assert answer.status_code == 400
        assert answer.json()["errors"] == [
            {"field": "destinations.1", "message": "no such destination"}
        ]
        assert client.get("/api/dispatches", headers=ALICE.headers).json()["items"] == []

    def test_a_retry_with_the_same_key_replays_the_202_and_stores_nothing_more(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(client, "billing", downstream.url_for("/ok"))
        headers = {**ALICE.headers, **ASYNC, "Idempotency-Key": "order-1"}
        first = client.post("/api/dispatch", json={"payload": {"a": 1}}, headers=headers)
        again = client.post("/api/dispatch", json={"payload": {"a": 1}}, headers=headers)
        assert first.status_code == again.status_code == 202
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["location"] == first.headers["location"]
        other = client.post("/api/dispatch", json={"payload": {"a": 2}}, headers=headers)
        assert other.status_code == 422
        settled(client, first.json()["id"])
        listed = client.get("/api/dispatches", headers=ALICE.headers).json()["items"]
        assert [d["id"] for d in listed] == [first.json()["id"]]
        assert downstream.hits["/ok"] == 1


class TestDelivering:
    def test_a_destination_down_then_up_gets_its_delivery_signed_with_one_webhook_id(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        made = create(client, "flaky", downstream.url_for("/flaky/3/503"), delivery=QUICK)
        done = settled(client, accept(client, payload={"n": 7})["id"])
        part = by_destination(done)["flaky"]
        assert part["state"] == "delivered"
        assert part["attempts"] == 4
        assert [a["status"] for a in part["attempt_log"]] == [503, 503, 503, 200]
        assert [a["number"] for a in part["attempt_log"]] == [1, 2, 3, 4]
        assert part["attempt_log"][0]["error"]["type"] == "http_error"
        ids = {seen["headers"]["webhook-id"] for seen in downstream.seen}
        assert ids == {part["webhook_id"]}  # the same on every attempt: receivers dedupe
        for seen in downstream.seen:  # each attempt signed afresh, each verifies
            assert Webhook(made["signing_secret"]).verify(seen["body"], seen["headers"]) == {"n": 7}

    def test_a_destination_down_for_seconds_gets_its_delivery_once_it_is_up(
        self, client: TestClient
    ) -> None:
        sock = bound_socket()  # bound, not listening: every connection is refused
        port = sock.getsockname()[1]
        create(
            client,
            "later",
            f"http://127.0.0.1:{port}/ok",
            delivery={"initial_backoff_seconds": 0.5, "max_backoff_seconds": 1},
            # What is tested is the retry: five refusals would open the breaker for 30 s.
            circuit_breaker={"failure_threshold": 100},
        )
        dispatch_id = accept(client)["id"]
        time.sleep(2.5)
        down = client.get(f"/api/dispatches/{dispatch_id}", headers=ALICE.headers).json()
        part = by_destination(down)["later"]
        assert (part["state"], part["last_error"]["type"]) == ("pending", "connect_error")
        assert part["attempts"] >= 2
        with running(Downstream(), sock) as receiver:
            done = settled(client, dispatch_id)
            assert len(receiver.seen) == 1
        part = by_destination(done)["later"]
        assert part["state"] == "delivered"
        assert {a["error"]["type"] for a in part["attempt_log"][:-1]} == {"connect_error"}
        assert part["attempt_log"][-1]["status"] == 200

    def test_a_spent_schedule_ends_dead_and_retry_brings_it_back(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(
            client,
            "broken",
            downstream.url_for("/status/500"),
            delivery={**QUICK, "max_attempts": 2},
        )
        dispatch = accept(client)
        dead = settled(client, dispatch["id"])
        part = by_destination(dead)["broken"]
        assert (dead["state"], part["state"], part["attempts"]) == ("failed", "dead", 2)
        assert part["next_attempt_at"] is None
        assert part["last_status"] == 500
        # Fixed on the destination's side; the dispatch is retried.
        patched = client.patch(
            "/api/destinations/broken",
            content=orjson.dumps({"url": downstream.url_for("/ok")}),
            headers={**ADMIN.headers, "content-type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200
        retried = client.post(f"/api/dispatches/{dispatch['id']}/retry", headers=ALICE.headers)
        assert retried.status_code == 202, retried.text
        assert retried.headers["location"] == f"/api/dispatches/{dispatch['id']}"
        assert by_destination(retried.json())["broken"]["state"] in ("pending", "delivering")
        done = settled(client, dispatch["id"])
        part = by_destination(done)["broken"]
        assert (done["state"], part["state"], part["attempts"]) == ("delivered", "delivered", 3)
        again = client.post(f"/api/dispatches/{dispatch['id']}/retry", headers=ALICE.headers)
        assert again.status_code == 409  # nothing left to retry

    def test_410_gone_ends_the_delivery_at_once(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(client, "gone", downstream.url_for("/status/410"), delivery=QUICK)
        part = by_destination(settled(client, accept(client)["id"]))["gone"]
        assert (part["state"], part["attempts"], part["last_status"]) == ("dead", 1, 410)

    def test_retry_after_is_honoured(self, client: TestClient, downstream: Downstream) -> None:
        create(client, "busy", downstream.url_for("/retry-after/1"), delivery=QUICK)
        part = by_destination(settled(client, accept(client)["id"]))["busy"]
        assert part["state"] == "delivered"
        first, second = part["attempt_log"]
        waited = datetime.fromisoformat(second["started_at"]) - datetime.fromisoformat(
            first["finished_at"]
        )
        assert waited >= timedelta(seconds=0.95)  # not the 0.1 s backoff

    def test_the_age_limit_ends_a_delivery(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(
            client,
            "old",
            downstream.url_for("/status/503"),
            delivery={"initial_backoff_seconds": 0.5, "max_age_seconds": 1},
        )
        part = by_destination(settled(client, accept(client)["id"]))["old"]
        assert part["state"] == "dead"
        assert part["attempts"] < 18

    def test_deleting_a_destination_ends_its_pending_deliveries(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(
            client,
            "doomed",
            downstream.url_for("/status/503"),
            delivery={"initial_backoff_seconds": 60},
        )
        dispatch = accept(client)
        deadline = time.monotonic() + 10
        while downstream.hits["/status/503"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # the first attempt recorded: pending for a minute
        assert client.delete("/api/destinations/doomed", headers=ADMIN.headers).status_code == 204
        done = settled(client, dispatch["id"])
        part = by_destination(done)["doomed"]
        assert part["state"] == "dead"
        assert part["last_error"]["type"] == "destination_removed"

    def test_a_failures_detail_is_the_destinations_own_words_only_for_admins(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(client, "leaky", downstream.url_for("/leak"), delivery={**QUICK, "max_attempts": 1})
        dispatch_id = accept(client)["id"]
        mine = by_destination(settled(client, dispatch_id))["leaky"]
        assert mine["last_error"] == {
            "type": "http_error",
            "detail": "The destination answered with an error status.",
        }
        theirs = by_destination(settled(client, dispatch_id, ADMIN))["leaky"]
        assert theirs["last_error"] == {"type": "http_error", "detail": "HTTP 500."}


class TestRecord:
    def test_a_synchronous_dispatch_is_recorded_once_answered(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(client, "billing", downstream.url_for("/ok"))
        create(client, "broken", downstream.url_for("/status/400"))
        report = client.post("/api/dispatch", json={"payload": {}}, headers=ALICE.headers)
        assert report.status_code == 200
        dispatch_id = report.json()["dispatch_id"]
        recorded = client.get(f"/api/dispatches/{dispatch_id}", headers=ALICE.headers).json()
        assert (recorded["mode"], recorded["state"]) == ("sync", "failed")
        parts = by_destination(recorded)
        assert parts["billing"]["state"] == "delivered"
        assert parts["broken"]["state"] == "failed"
        assert parts["broken"]["last_status"] == 400
        results = {r["destination"]: r for r in report.json()["results"]}
        assert parts["billing"]["webhook_id"] == results["billing"]["webhook_id"]
        # A failed synchronous call can be delivered in the background afterwards.
        retried = client.post(f"/api/dispatches/{dispatch_id}/retry", headers=ALICE.headers)
        assert retried.status_code == 202
        assert by_destination(retried.json())["billing"]["state"] == "delivered"

    def test_lists_are_newest_first_paged_and_filtered(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(client, "billing", downstream.url_for("/ok"))
        create(client, "broken", downstream.url_for("/status/500"), delivery={"max_attempts": 1})
        made = [accept(client, destinations=["billing"])["id"] for _ in range(3)]
        failing = accept(client, destinations=["broken"])["id"]
        for dispatch_id in [*made, failing]:
            settled(client, dispatch_id)
        first = client.get("/api/dispatches?limit=2", headers=ALICE.headers)
        assert first.status_code == 200
        page = first.json()
        assert [d["id"] for d in page["items"]] == [failing, made[2]]
        assert "attempt_log" not in page["items"][0]["deliveries"][0]
        rest = client.get(
            f"/api/dispatches?limit=2&cursor={page['next_cursor']}", headers=ALICE.headers
        )
        assert [d["id"] for d in rest.json()["items"]] == [made[1], made[0]]
        assert rest.json()["next_cursor"] is None
        failed = client.get("/api/dispatches?state=failed", headers=ALICE.headers).json()
        assert [d["id"] for d in failed["items"]] == [failing]
        to_billing = client.get("/api/dispatches?destination=billing", headers=ALICE.headers)
        assert [d["id"] for d in to_billing.json()["items"]] == made[::-1]
        other_filter = client.get(
            f"/api/dispatches?state=failed&limit=2&cursor={page['next_cursor']}",
            headers=ALICE.headers,
        )
        assert other_filter.status_code == 400  # a cursor belongs to its filters

    def test_tenants_see_and_retry_only_their_own(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(client, "broken", downstream.url_for("/status/500"), delivery={"max_attempts": 1})
        alices = accept(client)["id"]
        settled(client, alices)
        bobs = accept(client, BOB)["id"]
        settled(client, bobs, BOB)
        for path in (f"/api/dispatches/{alices}",):
            assert client.get(path, headers=BOB.headers).status_code == 404
        retry = client.post(f"/api/dispatches/{alices}/retry", headers=BOB.headers)
        assert retry.status_code == 404
        assert retry.json()["detail"] == client.get(
            "/api/dispatches/dsp_00000000000000000000000000000000", headers=BOB.headers
        ).json()["detail"].replace("dsp_00000000000000000000000000000000", alices)
        listed = client.get("/api/dispatches", headers=BOB.headers).json()["items"]
        assert [d["id"] for d in listed] == [bobs]
        everyone = client.get("/api/dispatches", headers=ADMIN.headers).json()["items"]
        assert {d["id"] for d in everyone} == {alices, bobs}


def _claim_for_a_dead_worker(database_url: str) -> None:
    """What a worker killed mid-attempt leaves: a claimed delivery, its attempt started."""

    def work(*, session: Any) -> None:
        now, expired = datetime.now(UTC), timedelta(seconds=-60)  # its lease long gone
        assert claim(session, worker="dead:1:x", now=now, lease=expired, limit=10)

    write_database(database_url, work)


def _rows(database_url: str, table: Any) -> list[Any]:
    found: list[Any] = []

    def work(*, session: Any) -> None:
        found.extend(session.execute(select(table)).all())

    write_database(database_url, work)
    return found


class TestLeases:
    def test_a_delivery_whose_worker_died_is_rescued_and_made_again(
        self, database_url: str, downstream: Downstream, client_with: ClientWith
    ) -> None:
        # Accepted with the workers off, then claimed by a "worker" that dies.
        with client_with(headers=ALICE.headers, delivery_workers=False) as client:
            create(client, "billing", downstream.url_for("/ok"))
            dispatch_id = accept(client)["id"]
        _claim_for_a_dead_worker(database_url)
        with client_with(headers=ALICE.headers) as client:
            done = settled(client, dispatch_id)
        part = by_destination(done)["billing"]
        assert part["state"] == "delivered"
        assert [a["error"]["type"] for a in part["attempt_log"][:1]] == ["interrupted"]
        assert [a["number"] for a in part["attempt_log"]] == [1, 2]
        assert downstream.hits["/ok"] == 1

    def test_shutdown_gives_back_what_is_under_way_with_nothing_half_recorded(
        self, database_url: str, downstream: Downstream, client_with: ClientWith
    ) -> None:
        with client_with(headers=ALICE.headers, delivery_drain_seconds=0.2) as client:
            create(client, "slow", downstream.url_for("/slow/5"), timeout_seconds=10)
            accept(client)
            deadline = time.monotonic() + 10
            while downstream.hits["/slow/5"] == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
        # The app stopped while the attempt ran: recorded, and the delivery due again.
        (row,) = _rows(database_url, deliveries)
        assert row.state == "pending"
        assert row.lease_owner is None
        assert row.next_attempt_at is not None
        (attempt,) = _rows(database_url, attempts)
        assert attempt.finished_at is not None
        assert attempt.error_type == "interrupted"
        (dispatch,) = _rows(database_url, dispatches)
        assert dispatch.state == "pending"


class TestUpkeep:
    def test_finished_dispatches_are_purged_after_the_retention_and_open_ones_kept(
        self, database_url: str, downstream: Downstream, client_with: ClientWith
    ) -> None:
        with client_with(headers=ALICE.headers, delivery_workers=False) as client:
            create(client, "billing", downstream.url_for("/ok"))
            report = client.post("/api/dispatch", json={"payload": {}}, headers=ALICE.headers)
            finished = report.json()["dispatch_id"]
            still_open = accept(client)["id"]  # no worker: stays pending

        def age_everything(*, session: Any) -> None:
            session.execute(
                dispatches.update().values(updated_at=datetime.now(UTC) - timedelta(days=2))
            )

        write_database(database_url, age_everything)
        with client_with(headers=ALICE.headers, dispatch_retention_days=1) as client:
            settled(client, still_open)  # the upkeep ran at the start: purged by then
            gone = client.get(f"/api/dispatches/{finished}")
            assert gone.status_code == 404
            assert client.get(f"/api/dispatches/{still_open}").status_code == 200
        ids = {row.dispatch_id for row in _rows(database_url, deliveries)}
        assert ids == {still_open}  # its deliveries and attempts went with it
        assert {row.delivery_id for row in _rows(database_url, attempts)} <= {
            row.id for row in _rows(database_url, deliveries)
        }

    def test_deliveries_are_signed_with_both_secrets_during_a_rotations_overlap(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        old = create(client, "billing", downstream.url_for("/ok"))["signing_secret"]
        rotated = client.post(
            "/api/destinations/billing/rotate-secret",
            json={"overlap_seconds": 3600},
            headers=ADMIN.headers,
        )
        new = rotated.json()["signing_secret"]
        settled(client, accept(client, payload={"k": 1})["id"])
        (seen,) = downstream.seen
        for secret in (old, new):
            assert Webhook(secret).verify(seen["body"], seen["headers"]) == {"k": 1}
