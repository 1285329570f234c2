"""POST /api/dispatch against real downstream servers on loopback (tests/downstream.py).

Timing assertions have wide margins: they tell "concurrent" from "one after the other"
and "bounded" from "hanging", not milliseconds.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import reduce
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from server.persistence.destinations import destinations
from server.telemetry.logs import formatter
from tests.api.helpers import VALIDATION, assert_problem, create_destination
from tests.config import ClientWith
from tests.conftest import BACKENDS
from tests.downstream import LEAKED, Downstream, raw_answer, refused_url
from tests.identities import ADMIN, ALICE, BOB, READER, Identity, write_database

PAYLOAD = {"order_id": 1042, "lines": [{"sku": "A-1", "qty": 2}], "note": "naïve ☕"}
NO_RETRY = {"max_attempts": 1, "initial_backoff_seconds": 0, "max_backoff_seconds": 0}


add = create_destination


def dispatch(client: TestClient, as_: Identity = ALICE, **body: Any) -> httpx.Response:
    return client.post(
        "/api/dispatch",
        content=orjson.dumps({"payload": PAYLOAD, **body}),
        headers={**as_.headers, "content-type": "application/json"},
    )


def timed(client: TestClient, as_: Identity = ALICE, **body: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = dispatch(client, as_, **body)
    return response, time.perf_counter() - started


def results(response: httpx.Response) -> dict[str, dict[str, Any]]:
    return {result["destination"]: result for result in response.json()["results"]}


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
class TestDispatchReport:
    def test_complete(self, client: TestClient, downstream: Downstream) -> None:
        add(client, "billing", downstream.url_for("/ok"))
        add(client, "audit", downstream.url_for("/empty"))
        response = dispatch(client)
        assert response.status_code == 200, response.text
        report = response.json()
        request_id = response.headers["x-request-id"]
        assert report["request_id"] == request_id
        assert (report["summary"], report["succeeded"], report["failed"]) == ("complete", 2, 0)
        by_name = results(response)
        assert [r["destination"] for r in report["results"]] == ["audit", "billing"]
        billing = by_name["billing"]
        assert billing["outcome"] == "succeeded"
        assert (billing["status"], billing["attempts"]) == (200, 1)
        assert "error" not in billing
        assert billing["body"]["received"] == PAYLOAD
        assert billing["body"]["request_id"] == request_id
        assert billing["latency_ms"] > 0
        assert all(re.fullmatch(r"msg_[0-9a-f]{40}", r.pop("webhook_id")) for r in by_name.values())
        assert by_name["audit"] | {"latency_ms": 0} == {
            "destination": "audit",
            "outcome": "succeeded",
            "status": 204,
            "latency_ms": 0,
            "attempts": 1,
            "body": None,
        }

    def test_partial(self, client: TestClient, downstream: Downstream) -> None:
        add(client, "billing", downstream.url_for("/ok"))
        with refused_url() as url:
            add(client, "dead", url, retry={"initial_backoff_seconds": 0.01})
            response = dispatch(client)
        assert response.status_code == 200
        assert response.json()["summary"] == "partial"
        dead = results(response)["dead"]
        assert dead["outcome"] == "failed"
        assert dead["status"] is None
        assert dead["attempts"] == 3  # connection errors are retried
        assert dead["error"]["type"] == "connect_error"

    @pytest.mark.parametrize("caller", [ALICE, ADMIN], ids=["tenant", "admin"])
    def test_response_502_when_every_destination_failed(
        self, client: TestClient, downstream: Downstream, caller: Identity
    ) -> None:
        add(client, "broken", downstream.url_for("/status/500"))
        add(client, "lost", downstream.url_for("/status/404"))
        response = dispatch(client, caller, destinations=["lost", "broken"])
        disclosed = caller is ADMIN
        assert response.status_code == 502
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        request_id = response.headers["x-request-id"]
        for result in problem["results"]:
            result["latency_ms"] = 0
            assert re.fullmatch(r"msg_[0-9a-f]{40}", result.pop("webhook_id"))
        assert re.fullmatch(r"dsp_[0-9a-f]{32}", problem.pop("dispatch_id"))  # its record
        assert problem == {
            "type": "urn:contract-api:problem:dispatch-failed",
            "title": "Every destination failed",
            "status": 502,
            "detail": "None of the 2 destinations accepted the payload; see results.",
            "instance": "/api/dispatch",
            "request_id": request_id,
            "succeeded": 0,
            "failed": 2,
            "results": [
                {
                    "destination": name,
                    "outcome": "failed",
                    "status": status,
                    "latency_ms": 0,
                    "attempts": 1,  # neither 500 nor 404 is retried
                    # A failed answer's own words are for admins only.
                    "body": {"code": status} if disclosed else None,
                    "error": {
                        "type": "http_error",
                        "detail": f"HTTP {status}."
                        if disclosed
                        else "The destination answered with an error status.",
                    },
                }
                for name, status in (("lost", 404), ("broken", 500))
            ],
        }


class TestConcurrency:
    def test_latency_is_the_slowest_not_the_sum(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        for name in ("a", "b", "c", "d"):
            add(client, name, downstream.url_for(f"/slow/0.4?{name}"))
        response, elapsed = timed(client)
        assert response.json()["succeeded"] == 4
        assert 0.4 <= elapsed < 1.2, elapsed  # one after the other would be 1.6 s

    def test_a_hanging_destination_does_not_hold_the_others_back(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "fast", downstream.url_for("/ok"))
        add(client, "drip", downstream.url_for("/drip"), timeout_seconds=0.5)
        add(client, "slow", downstream.url_for("/slow/30"), timeout_seconds=0.5)
        with refused_url() as url:
            add(client, "dead", url, timeout_seconds=0.5)
            response, elapsed = timed(client, ADMIN)
        assert response.status_code == 200
        assert elapsed < 1.5, elapsed  # the deadline (0.5 s) plus slack, not 10 s or 30 s
        by_name = results(response)
        assert by_name["fast"]["outcome"] == "succeeded"
        assert by_name["fast"]["latency_ms"] < 500
        for name in ("drip", "slow"):
            assert by_name[name]["error"] == {
                "type": "timeout",
                "detail": "No complete answer within 0.5 s.",
            }
            assert by_name[name]["status"] is None
            assert 450 <= by_name[name]["latency_ms"] < 1500
        assert by_name["dead"]["error"]["type"] == "connect_error"

    def test_the_request_can_shorten_every_deadline(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "fast", downstream.url_for("/ok"))
        add(client, "slow", downstream.url_for("/slow/5"), timeout_seconds=10)
        response, elapsed = timed(client, ADMIN, timeout_seconds=0.3)
        assert elapsed < 1.5
        assert results(response)["slow"]["error"] == {
            "type": "cut_short",  # the caller's deadline, not the destination's
            "detail": "The request's timeout_seconds (0.3 s) ran out before the destination's "
            "own deadline (10 s).",
        }


class TestRetries:
    def test_503_is_retried_until_it_succeeds(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "flaky", downstream.url_for("/flaky/2/503"), retry={"max_attempts": 3})
        result = results(dispatch(client))["flaky"]
        assert (result["outcome"], result["status"], result["attempts"]) == ("succeeded", 200, 3)
        assert downstream.hits["/flaky/2/503"] == 3

    @pytest.mark.parametrize("status", [502, 504])
    def test_gateway_errors_are_retried_within_max_attempts(
        self, client: TestClient, downstream: Downstream, status: int
    ) -> None:
        path = f"/flaky/9/{status}"
        add(client, "flaky", downstream.url_for(path), retry={"max_attempts": 2})
        response = dispatch(client)
        assert response.status_code == 502
        result = response.json()["results"][0]
        assert (result["status"], result["attempts"]) == (status, 2)
        assert downstream.hits[path] == 2

    def test_every_attempt_carries_the_same_ids(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "flaky", downstream.url_for("/flaky/1/503"))
        response = client.post(
            "/api/dispatch",
            json={"payload": PAYLOAD},
            headers={"Idempotency-Key": "order-1042", "X-Request-ID": "trace-77"},
        )
        assert response.headers["x-request-id"] == "trace-77"
        attempts = [seen["headers"] for seen in downstream.seen]
        assert len(attempts) == 2
        for headers in attempts:
            assert headers["x-request-id"] == "trace-77"
            assert headers["idempotency-key"] == f"{ALICE.client_id}:order-1042"
            assert headers["content-type"] == "application/json"
            assert headers["user-agent"].startswith("contract-api-gateway/")
            assert "x-api-key" not in headers  # the caller's credential stays here
        assert all(orjson.loads(seen["body"]) == PAYLOAD for seen in downstream.seen)

    def test_without_a_key_one_is_made_up_per_dispatch(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "flaky", downstream.url_for("/flaky/1/503"))
        dispatch(client)
        downstream.hits.clear()  # the second dispatch fails once too
        dispatch(client)
        keys = [seen["headers"]["idempotency-key"] for seen in downstream.seen]
        assert keys[0] == keys[1] != keys[2] == keys[3]  # one per dispatch, kept across retries

    def test_429_waits_for_retry_after(self, client: TestClient, downstream: Downstream) -> None:
        add(client, "throttled", downstream.url_for("/retry-after/1"), timeout_seconds=5)
        response, elapsed = timed(client)
        result = results(response)["throttled"]
        assert (result["outcome"], result["attempts"]) == ("succeeded", 2)
        assert elapsed >= 1.0  # Retry-After: 1, not the 0.1 s backoff
        assert result["latency_ms"] >= 1000

    def test_a_retry_after_past_the_deadline_is_not_waited_for(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "throttled", downstream.url_for("/retry-after/30"), timeout_seconds=2)
        response, elapsed = timed(client, ADMIN)
        assert response.status_code == 502
        result = response.json()["results"][0]
        assert (result["status"], result["attempts"]) == (429, 1)
        assert result["error"] == {"type": "http_error", "detail": "HTTP 429."}
        assert elapsed < 1.5


class TestMisbehavingDownstreams:
    def test_downstream_cookies_are_never_sent_back(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        # By name, not IP: aiohttp's default cookie jar ignores cookies from IP addresses.
        add(client, "sticky", downstream.url_for("/cookie").replace("127.0.0.1", "localhost"))
        dispatch(client)
        client.post("/api/dispatch", json={"payload": {}}, headers=BOB.headers)
        assert len(downstream.seen) == 2
        assert "set-cookie" not in str(downstream.seen)
        assert all("cookie" not in seen["headers"] for seen in downstream.seen)

    def test_a_non_json_body_is_a_failure(self, client: TestClient, downstream: Downstream) -> None:
        add(client, "garbage", downstream.url_for("/garbage"))
        result = dispatch(client, ADMIN).json()["results"][0]
        assert result["status"] == 200
        assert result["body"] is None
        assert result["error"] == {
            "type": "invalid_response",
            "detail": "HTTP 200 with a body that is not JSON.",
        }

    def test_a_huge_body_is_cut_off_at_the_cap(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "huge", downstream.url_for("/huge"))
        result = dispatch(client, ADMIN).json()["results"][0]
        assert result["status"] == 200
        assert result["error"] == {
            "type": "response_too_large",
            "detail": "HTTP 200 with a body over 65536 bytes.",
        }

    def test_redirects_are_not_followed(self, client: TestClient, downstream: Downstream) -> None:
        add(client, "moved", downstream.url_for("/redirect"))
        result = dispatch(client).json()["results"][0]
        assert result["status"] == 302
        assert result["error"]["type"] == "redirect"
        assert downstream.hits["/ok"] == 0


class TestCircuitBreaker:
    def test_opens_fails_fast_and_recovers(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        path = "/flaky/2/500"  # two 500s, then healthy
        add(
            client,
            "shaky",
            downstream.url_for(path),
            retry=NO_RETRY,
            circuit_breaker={"failure_threshold": 2, "cooldown_seconds": 0.5},
        )
        for _ in range(2):
            assert dispatch(client).json()["results"][0]["error"]["type"] == "http_error"
        circuit = client.get("/api/destinations/shaky", headers=ADMIN.headers).json()["circuit"]
        assert (circuit["state"], circuit["times_opened"]) == ("open", 1)
        assert 0 < circuit["retry_after_seconds"] <= 0.5

        response, elapsed = timed(client)
        result = response.json()["results"][0]
        assert result["error"]["type"] == "circuit_open"
        assert (result["attempts"], result["status"]) == (0, None)
        assert downstream.hits[path] == 2  # the network was not touched
        assert elapsed < 0.5

        time.sleep(0.6)  # the cooldown: the next call is the probe
        result = results(dispatch(client))["shaky"]
        assert (result["outcome"], result["attempts"]) == ("succeeded", 1)
        circuit = client.get("/api/destinations/shaky", headers=ADMIN.headers).json()["circuit"]
        assert (circuit["state"], circuit["consecutive_failures"]) == ("closed", 0)

    def test_a_new_url_starts_a_new_breaker(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(
            client,
            "shaky",
            downstream.url_for("/status/503"),
            retry=NO_RETRY,
            circuit_breaker={"failure_threshold": 1},
        )
        dispatch(client)
        admin = ADMIN.headers
        assert client.get("/api/destinations/shaky", headers=admin).json()["circuit"]["state"] == (
            "open"
        )
        response = client.patch(
            "/api/destinations/shaky",
            json={"url": downstream.url_for("/ok")},
            headers={**admin, "content-type": "application/merge-patch+json"},
        )
        assert response.json()["circuit"]["state"] == "closed"
        assert dispatch(client).json()["summary"] == "complete"


class TestDispatchRefused:
    def test_response_400_on_unknown_or_disabled_destinations(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "on", downstream.url_for("/ok"))
        add(client, "off", downstream.url_for("/ok"), enabled=False)
        response = dispatch(client, destinations=["on", "nope", "off"])
        assert_problem(
            response,
            {
                "type": VALIDATION,
                "title": "Validation failed",
                "status": 400,
                "detail": "destinations.1: no such destination; destinations.2: disabled",
                "instance": "/api/dispatch",
                "errors": [
                    {"field": "destinations.1", "message": "no such destination"},
                    {"field": "destinations.2", "message": "disabled"},
                ],
            },
        )
        assert downstream.hits["/ok"] == 0

    def test_disabled_destinations_are_skipped_by_default(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "on", downstream.url_for("/ok"))
        add(client, "off", downstream.url_for("/status/500"), enabled=False)
        response = dispatch(client)
        assert [r["destination"] for r in response.json()["results"]] == ["on"]

    def test_response_409_with_nothing_to_send_to(self, client: TestClient) -> None:
        assert_problem(
            dispatch(client),
            {
                "type": "urn:contract-api:problem:conflict",
                "title": "Conflict",
                "status": 409,
                "detail": "There is no enabled destination to dispatch to.",
                "instance": "/api/dispatch",
            },
        )

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param({"payload": [1, 2]}, id="payload-not-an-object"),
            pytest.param({}, id="no-payload"),
            pytest.param({"payload": {}, "destinations": []}, id="empty-list"),
            pytest.param({"payload": {}, "destinations": ["a", "a"]}, id="duplicates"),
            pytest.param({"payload": {}, "url": "http://169.254.169.254/"}, id="url-in-payload"),
            pytest.param({"payload": {}, "timeout_seconds": 0}, id="zero-timeout"),
        ],
    )
    def test_response_400_on_a_bad_request(
        self, client: TestClient, downstream: Downstream, body: dict[str, Any]
    ) -> None:
        add(client, "a", downstream.url_for("/ok"))
        response = client.post("/api/dispatch", json=body)
        assert response.status_code == 400
        assert response.json()["type"] == VALIDATION
        assert downstream.hits["/ok"] == 0

    def test_response_403_without_the_dispatch_scope(self, client: TestClient) -> None:
        response = client.post("/api/dispatch", json={"payload": {}}, headers=READER.headers)
        assert response.status_code == 403
        assert 'scope="dispatch:write"' in response.headers["www-authenticate"]


class Lines(logging.Handler):
    """Log records rendered as the service writes them, at emit time (the request id is
    in the context then)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.rendered: list[dict[str, Any]] = []
        self.setFormatter(formatter("json"))

    def emit(self, record: logging.LogRecord) -> None:
        self.rendered.append(orjson.loads(self.format(record)))


@pytest.fixture
def gateway_log() -> Iterator[Lines]:
    lines = Lines()
    logger = logging.getLogger("server.downstream.gateway")
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)


def circuit(client: TestClient, name: str) -> dict[str, Any]:
    circuit: dict[str, Any] = client.get(f"/api/destinations/{name}", headers=ADMIN.headers).json()[
        "circuit"
    ]
    return circuit


class TestNoTenantShutsADestinationForOthers:
    """What an attacker with an ordinary dispatch:write client tried (issue 14)."""

    def test_a_callers_short_deadline_never_opens_the_breaker(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "victim-slow", downstream.url_for("/slow/0.5"), timeout_seconds=5)
        for _ in range(6):  # the breaker's threshold is 5
            response = dispatch(client, BOB, destinations=["victim-slow"], timeout_seconds=0.05)
            assert response.status_code == 502
            [result] = response.json()["results"]
            assert result["error"]["type"] == "cut_short"
        assert (
            circuit(client, "victim-slow")["state"],
            circuit(client, "victim-slow")["consecutive_failures"],
        ) == ("closed", 0)
        result = results(dispatch(client, ALICE))["victim-slow"]
        assert (result["outcome"], result["attempts"]) == ("succeeded", 1)

    @pytest.mark.parametrize(
        "key",
        [
            pytest.param(b"\xe9", id="latin-1-byte"),
            pytest.param(b"order 1042", id="space"),
            pytest.param(b"k" * 256, id="too-long"),
        ],
    )
    def test_a_header_that_cannot_be_sent_is_a_400_before_any_call(
        self, client: TestClient, downstream: Downstream, key: bytes
    ) -> None:
        add(client, "healthy", downstream.url_for("/ok"))
        for _ in range(6):
            response = client.post(
                "/api/dispatch",
                json={"payload": PAYLOAD},
                headers={**BOB.headers, "Idempotency-Key": key},  # type: ignore[dict-item]
            )
            assert response.status_code == 400
            assert response.headers["content-type"] == "application/problem+json"
            assert [error["field"] for error in response.json()["errors"]] == ["Idempotency-Key"]
        assert downstream.hits["/ok"] == 0
        assert circuit(client, "healthy")["consecutive_failures"] == 0
        assert dispatch(client, ALICE).json()["summary"] == "complete"

    def test_an_unsendable_request_id_is_replaced_not_forwarded(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "healthy", downstream.url_for("/ok"))
        response = client.post(
            "/api/dispatch",
            json={"payload": PAYLOAD},
            headers={"X-Request-ID": b"\xe9"},  # type: ignore[dict-item]
        )
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]
        assert request_id != "\xe9" and request_id.isascii()
        assert downstream.seen[0]["headers"]["x-request-id"] == request_id


class TestTenantsReadNoDownstreamInternals:
    INTERNALS = ("hunter2", "Traceback", "/srv/app.py", "127.0.0.1", "SSL", "Connect call")

    @contextmanager
    def failures(self, client: TestClient, downstream: Downstream) -> Iterator[str]:
        """Three failing destinations; yields the refused one's port."""
        add(client, "leaky", downstream.url_for("/leak"))
        # TLS spoken to a plain-HTTP port: the resolver/TLS text names host and port.
        add(client, "tls", downstream.url_for("/ok").replace("http:", "https:"), retry=NO_RETRY)
        with refused_url() as url:
            add(client, "dead", url, retry=NO_RETRY)
            port = url.split(":")[2].split("/")[0]
            yield port

    def test_a_tenant_reads_types_and_fixed_sentences(
        self, client: TestClient, downstream: Downstream, gateway_log: Lines
    ) -> None:
        with self.failures(client, downstream) as port:
            response = dispatch(client, BOB)
        assert response.status_code == 502
        text = response.text
        for internal in (*self.INTERNALS, port, str(downstream.url.split(":")[2])):
            assert internal not in text, internal
        by_name = results(response)
        assert {name: result["error"]["type"] for name, result in by_name.items()} == {
            "dead": "connect_error",
            "leaky": "http_error",
            "tls": "connect_error",
        }
        assert by_name["leaky"]["status"] == 500
        assert all(result["body"] is None for result in by_name.values())
        # The log keeps the whole story, with the request's id.
        logged = {line["event"].split()[1]: line for line in gateway_log.rendered}
        assert set(logged) == {"dead", "leaky", "tls"}
        for line in logged.values():
            assert line["request_id"] == response.headers["x-request-id"]
        assert port in logged["dead"]["event"]

    def test_an_admin_reads_the_whole_story(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        with self.failures(client, downstream) as port:
            response = dispatch(client, ADMIN)
        by_name = results(response)
        assert by_name["leaky"]["body"] == LEAKED
        assert by_name["leaky"]["error"]["detail"] == "HTTP 500."
        assert port in by_name["dead"]["error"]["detail"]
        assert "SSL" in by_name["tls"]["error"]["detail"]

    def test_a_successful_body_stays_in_every_report(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "billing", downstream.url_for("/ok"))
        assert results(dispatch(client, BOB))["billing"]["body"]["received"] == PAYLOAD


class TestDestinationUrlsAreStoredAsDialled:
    @pytest.mark.parametrize(
        "spelling",
        [
            pytest.param("2130706433", id="decimal"),
            pytest.param("127.1", id="short"),
            pytest.param("0x7f.0.0.1", id="hex"),
            pytest.param("127.0.0.1.", id="trailing-dot"),
        ],
    )
    def test_a_legacy_ipv4_form_is_refused(self, client: TestClient, spelling: str) -> None:
        """Browsers read these as 127.0.0.1; the spec's pattern takes dotted decimal only,
        so no spelling of an address reaches the allow-list or the transport."""
        response = client.post(
            "/api/destinations",
            json={"name": "legacy", "url": f"http://{spelling}:9/ok"},
            headers=ADMIN.headers,
        )
        assert response.status_code == 400, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["url"]
        assert client.get("/api/destinations/legacy", headers=ADMIN.headers).status_code == 404

    def test_a_url_is_stored_canonical_and_dials(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        port = downstream.url.rsplit(":", 1)[1]
        response = client.post(
            "/api/destinations",
            json={"name": "spelled", "url": f"HTTP://LocalHost.:{port}/x/../ok"},
            headers=ADMIN.headers,
        )
        assert response.status_code == 201, response.text
        assert response.json()["url"] == f"http://localhost:{port}/ok"
        assert dispatch(client).json()["summary"] == "complete"

    def test_a_url_stored_before_the_check_is_dialled_canonical(
        self, database_url: str, client: TestClient, downstream: Downstream
    ) -> None:
        port = downstream.url.rsplit(":", 1)[1]
        add(client, "legacy", downstream.url_for("/ok"))
        # As an older version stored it: straight into the table, unchecked.
        write_database(
            database_url, store_url_unchecked, name="legacy", url=f"http://2130706433:{port}/ok"
        )
        assert dispatch(client).json()["summary"] == "complete"

    def test_the_allow_list_sees_the_canonical_host(
        self, client_with: ClientWith, downstream: Downstream
    ) -> None:
        port = downstream.url.rsplit(":", 1)[1]
        allowing = client_with(dispatch_allowed_hosts=[f"localhost:{port}"], headers=ADMIN.headers)
        with allowing as admin:
            for number, spelling in enumerate(("localhost", "LOCALHOST", "LocalHost.")):
                response = admin.post(
                    "/api/destinations",
                    json={"name": f"d{number}", "url": f"http://{spelling}:{port}/"},
                )
                assert response.status_code == 201, response.text
            response = admin.post(
                "/api/destinations", json={"name": "other", "url": f"http://127.0.0.2:{port}/"}
            )
            assert response.status_code == 400
            assert response.json()["errors"] == [
                {"field": "url", "message": f"127.0.0.2:{port} is not on the allow-list"}
            ]


def store_url_unchecked(*, session: Session, name: str, url: str) -> None:
    session.execute(update(destinations).where(destinations.c.name == name).values(url=url))


class TestNoDestinationEndsTheDispatchIn500:
    """What the attacker's trial of issue 14 found still open: one misbehaving destination
    or one odd payload took every other result down with a 500."""

    @pytest.mark.parametrize(
        "answer",
        [
            pytest.param(b"HTTX/1.1 200 OK\r\n\r\n", id="bad-status-line"),
            pytest.param(b"{}", id="no-status-line"),
            pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", id="bad-length"),
            pytest.param(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                id="two-lengths",
            ),
            pytest.param(b"HTTP/1.1 200 OK\r\nX: " + b"y" * 9000 + b"\r\n\r\n", id="long-header"),
        ],
    )
    def test_an_answer_that_is_not_http_is_a_transport_error(
        self, client: TestClient, downstream: Downstream, answer: bytes
    ) -> None:
        add(client, "ok", downstream.url_for("/ok"))
        with raw_answer(answer) as url:
            add(client, "raw", url, circuit_breaker={"failure_threshold": 1})
            response = dispatch(client, BOB)
        assert response.status_code == 200, response.text
        by_name = results(response)
        assert by_name["ok"]["outcome"] == "succeeded"
        assert by_name["raw"]["error"]["type"] == "transport_error"
        assert by_name["raw"]["attempts"] == 1  # not retried: it may have acted
        assert circuit(client, "raw")["state"] == "open"  # the destination's own failure

    @pytest.mark.parametrize("depth", [129, 300, 1000])
    def test_a_payload_nested_too_deep_is_a_400(
        self, client: TestClient, downstream: Downstream, depth: int
    ) -> None:
        add(client, "ok", downstream.url_for("/ok"))
        payload = '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)  # depth levels of objects
        response = client.post(
            "/api/dispatch",
            content=f'{{"payload":{payload}}}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["errors"] == [
            {"field": "payload", "message": "must not nest deeper than 128 levels"}
        ]
        assert downstream.hits["/ok"] == 0

    def test_a_payload_128_deep_is_sent(self, client: TestClient, downstream: Downstream) -> None:
        add(client, "empty", downstream.url_for("/empty"))
        payload = reduce(lambda inner, _: {"a": inner}, range(127), {})  # 128 levels
        assert dispatch(client, payload=payload).status_code == 200
        assert orjson.loads(downstream.seen[0]["body"]) == payload

    def test_an_answer_nested_too_deep_is_an_invalid_response(
        self, client: TestClient, downstream: Downstream
    ) -> None:
        add(client, "ok", downstream.url_for("/ok"))
        add(client, "deep", downstream.url_for("/deep/300"))
        add(client, "fine", downstream.url_for("/deep/100"))
        response = dispatch(client, ADMIN)
        assert response.status_code == 200, response.text
        by_name = results(response)
        assert by_name["ok"]["outcome"] == by_name["fine"]["outcome"] == "succeeded"
        assert by_name["deep"]["error"] == {
            "type": "invalid_response",
            "detail": "HTTP 200 with a JSON body nested deeper than 128 levels.",
        }
