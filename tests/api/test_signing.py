"""Every downstream request is signed as Standard Webhooks says, and a receiver verifies it
with the ``standardwebhooks`` library itself: before, during and after a secret's rotation
(SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.testclient import TestClient

from server.persistence.database import normalize_url
from server.persistence.destinations import destinations
from server.services import destinations as destinations_service
from tests.api.helpers import create_destination
from tests.conftest import BACKENDS
from tests.downstream import Downstream
from tests.identities import ADMIN, ALICE, write_database

pytestmark = pytest.mark.parametrize("database_url", BACKENDS, indirect=True)

PAYLOAD = {"order_id": 1042, "note": "señal ✓"}  # not ASCII: the signature is over UTF-8
SECRET = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")


create = create_destination


def rotate(client: TestClient, name: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/destinations/{name}/rotate-secret", json=body, headers=ADMIN.headers
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def dispatch(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/api/dispatch",
        content=orjson.dumps({"payload": PAYLOAD, **body}),
        headers={**ALICE.headers, "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def verified(secret: str, seen: dict[str, Any]) -> Any:
    return Webhook(secret).verify(seen["body"], seen["headers"])


class TestSignatures:
    def test_every_request_verifies_with_the_secret_shown_at_creation(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        billing = create(client, "billing", downstream.url_for("/ok"))
        audit = create(client, "audit", downstream.url_for("/empty"))
        assert SECRET.fullmatch(billing["signing_secret"])
        assert billing["signing_secret"] != audit["signing_secret"]
        report = dispatch(client)
        by_path = {seen["path"]: seen for seen in downstream.seen}
        assert verified(billing["signing_secret"], by_path["/ok"]) == PAYLOAD
        assert verified(audit["signing_secret"], by_path["/empty"]) == PAYLOAD
        with pytest.raises(WebhookVerificationError):  # each destination has its own
            verified(billing["signing_secret"], by_path["/empty"])
        ids = {r["destination"]: r["webhook_id"] for r in report["results"]}
        assert ids["billing"] == by_path["/ok"]["headers"]["webhook-id"]
        assert ids["audit"] == by_path["/empty"]["headers"]["webhook-id"]
        assert ids["billing"] != ids["audit"]

    def test_a_retry_keeps_its_webhook_id_and_signs_again(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        secret = create(
            client,
            "flaky",
            downstream.url_for("/flaky/1/503"),
            retry={"initial_backoff_seconds": 0},
        )["signing_secret"]
        (result,) = dispatch(client)["results"]
        assert result["attempts"] == 2
        first, second = downstream.seen
        assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
        assert result["webhook_id"] == first["headers"]["webhook-id"]
        for seen in (first, second):
            verified(secret, seen)

    def test_a_callers_retry_with_its_idempotency_key_sends_the_same_webhook_id(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        create(client, "billing", downstream.url_for("/ok"))
        create(client, "audit", downstream.url_for("/empty"))

        def ids(**headers: str) -> dict[str, str]:
            response = client.post(
                "/api/dispatch", json={"payload": PAYLOAD}, headers={**ALICE.headers, **headers}
            )
            assert response.status_code == 200, response.text
            return {r["destination"]: r["webhook_id"] for r in response.json()["results"]}

        first = ids(**{"Idempotency-Key": "order-1042"})
        assert ids(**{"Idempotency-Key": "order-1042"}) == first  # the retry: dropped downstream
        assert first["billing"] != first["audit"]
        other = ids(**{"Idempotency-Key": "order-1043"})
        assert set(other.values()).isdisjoint(first.values())
        assert set(ids().values()).isdisjoint(ids().values())  # no key: a new id each time
        sent = [seen["headers"]["webhook-id"] for seen in downstream.seen if seen["path"] == "/ok"]
        assert sent[:2] == [first["billing"]] * 2

    def test_a_tampered_body_or_id_does_not_verify(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        secret = create(client, "billing", downstream.url_for("/ok"))["signing_secret"]
        dispatch(client)
        (seen,) = downstream.seen
        with pytest.raises(WebhookVerificationError):
            verified(secret, {**seen, "body": seen["body"].replace(b"1042", b"1043")})
        headers = {**seen["headers"], "webhook-id": "msg_other"}
        with pytest.raises(WebhookVerificationError):
            verified(secret, {**seen, "headers": headers})


class TestSecretShownOnce:
    def test_no_read_shows_it(self, client: TestClient, downstream: Downstream) -> None:
        create(client, "billing", downstream.url_for("/ok"))
        one = client.get("/api/destinations/billing", headers=ADMIN.headers).json()
        listed = client.get("/api/destinations", headers=ADMIN.headers).json()["items"]
        patched = client.patch(
            "/api/destinations/billing",
            json={"enabled": False},
            headers={**ADMIN.headers, "content-type": "application/merge-patch+json"},
        ).json()
        for answer in (one, *listed, patched):
            assert "signing_secret" not in answer
            assert answer["signing"]["previous_secret_expires_at"] is None

    def test_no_log_line_carries_it(
        self, client: TestClient, downstream: Downstream, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        created = create(client, "billing", downstream.url_for("/status/500"))
        rotated = rotate(client, "billing")
        dispatch_response = client.post(
            "/api/dispatch", json={"payload": PAYLOAD}, headers=ALICE.headers
        )
        assert dispatch_response.status_code == 502
        logged = "\n".join(record.getMessage() + repr(record.__dict__) for record in caplog.records)
        for secret in (created["signing_secret"], rotated["signing_secret"]):
            assert secret not in logged
            assert secret.removeprefix("whsec_") not in logged


class TestRotation:
    def test_both_secrets_sign_during_the_overlap_then_the_new_one_alone(
        self, client: TestClient, downstream: Downstream, database_url: str
    ) -> None:
        old = create(client, "billing", downstream.url_for("/ok"))["signing_secret"]
        rotated = rotate(client, "billing", overlap_seconds=3600)
        new = rotated["signing_secret"]
        assert SECRET.fullmatch(new) and new != old
        assert rotated["signing"]["previous_secret_expires_at"] is not None
        assert rotated["signing"]["secret_created_at"] > rotated["created_at"]
        dispatch(client)
        (during,) = downstream.seen
        assert len(during["headers"]["webhook-signature"].split(" ")) == 2
        verified(old, during)  # a receiver that has not switched yet
        verified(new, during)  # and one that has

        def overlap_over(*, session: Session) -> None:
            session.execute(
                update(destinations).values(
                    previous_secret_expires_at=datetime.fromisoformat(rotated["created_at"])
                )
            )

        write_database(database_url, overlap_over)
        downstream.reset()
        dispatch(client)
        (after,) = downstream.seen
        assert len(after["headers"]["webhook-signature"].split(" ")) == 1
        verified(new, after)
        with pytest.raises(WebhookVerificationError):
            verified(old, after)
        got = client.get("/api/destinations/billing", headers=ADMIN.headers).json()
        assert got["signing"]["previous_secret_expires_at"] is None

    def test_no_overlap_and_the_default_overlap(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        old = create(client, "billing", downstream.url_for("/ok"))["signing_secret"]
        response = client.post("/api/destinations/billing/rotate-secret", headers=ADMIN.headers)
        assert response.status_code == 200, response.text  # no body: the default overlap
        day = response.json()["signing"]["previous_secret_expires_at"]
        assert day is not None
        new = rotate(client, "billing", overlap_seconds=0)["signing_secret"]
        dispatch(client)
        (seen,) = downstream.seen
        verified(new, seen)
        for earlier in (old, response.json()["signing_secret"]):
            with pytest.raises(WebhookVerificationError):
                verified(earlier, seen)

    def test_a_rotation_waiting_on_another_keeps_the_secret_that_one_made(
        self, client: TestClient, database_url: str
    ) -> None:
        """Two rotations at once on PostgreSQL: the second waits for the first's row lock;
        it must then keep the first's new secret beside its own, or a secret handed to an
        admin never signs (it kept the secret both had read, before the first)."""
        if not database_url.startswith("postgresql"):
            pytest.skip("SQLite runs one writer at a time: no rotation can wait on another")
        create(client, "billing", "http://127.0.0.1:9/")

        def rotated(*, session: Session) -> str:
            row = destinations_service.rotate_secret(
                session=session, name="billing", overlap_seconds=3600
            )
            return row.signing_secret

        def stored(*, session: Session) -> tuple[str, str | None]:
            row = session.execute(select(destinations)).one()
            return row.signing_secret, row.previous_signing_secret

        async def interleaved() -> tuple[str, str, tuple[str, str | None]]:
            engine = create_async_engine(normalize_url(database_url))
            try:
                async with AsyncSession(engine) as first, AsyncSession(engine) as second:
                    await first.begin()
                    made_first = await first.run_sync(lambda s: rotated(session=s))
                    await second.begin()
                    waiting = asyncio.create_task(second.run_sync(lambda s: rotated(session=s)))
                    await asyncio.sleep(0.3)  # the second now waits on the row's lock
                    await first.commit()
                    made_second = await waiting
                    await second.commit()
                async with AsyncSession(engine) as reader:
                    final = await reader.run_sync(lambda s: stored(session=s))
            finally:
                await engine.dispose()
            return made_first, made_second, final

        made_first, made_second, final = asyncio.run(interleaved())
        assert final == (made_second, made_first)

    def test_a_lost_answer_is_retried_with_its_idempotency_key(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        """A retry makes no third secret: the one the receiver knows keeps its overlap."""
        old = create(client, "billing", downstream.url_for("/ok"))["signing_secret"]
        create(client, "audit", downstream.url_for("/empty"))
        key = {**ADMIN.headers, "Idempotency-Key": "rotate-1"}
        url = "/api/destinations/billing/rotate-secret"
        first = client.post(url, json={"overlap_seconds": 600}, headers=key)
        again = client.post(url, json={"overlap_seconds": 600}, headers=key)
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["signing_secret"] == first.json()["signing_secret"]
        dispatch(client, destinations=["billing"])
        (seen,) = downstream.seen
        verified(old, seen)  # still in its overlap: only one rotation happened
        verified(first.json()["signing_secret"], seen)
        other = client.post(
            "/api/destinations/audit/rotate-secret", json={"overlap_seconds": 600}, headers=key
        )
        assert other.status_code == 422  # the key was for billing
        longer = client.post(url, json={"overlap_seconds": 60}, headers=key)
        assert longer.status_code == 422

    def test_refusals(self, client: TestClient, downstream: Downstream) -> None:
        create(client, "billing", downstream.url_for("/ok"))
        missing = client.post(
            "/api/destinations/nowhere/rotate-secret", json={}, headers=ADMIN.headers
        )
        assert missing.status_code == 404
        too_long = client.post(
            "/api/destinations/billing/rotate-secret",
            json={"overlap_seconds": 604801},
            headers=ADMIN.headers,
        )
        assert too_long.status_code == 400
        assert too_long.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in too_long.json()["errors"]] == ["overlap_seconds"]
        tenant = client.post(
            "/api/destinations/billing/rotate-secret", json={}, headers=ALICE.headers
        )
        assert tenant.status_code == 403
