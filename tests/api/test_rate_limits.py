"""Rate limits: exactly the quota of 2xx per window, then 429 with the right fields.

Each test runs with counters in process memory and in the real Redis on 127.0.0.1.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import ContractApp
from server.settings import Settings
from tests.config import ClientWith, make_settings
from tests.identities import ALICE, BOB, READER

QUOTA = 3


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


@pytest.fixture
def settings(database_url: str, storage: str | None) -> Settings:
    return make_settings(
        database_url,
        redis_url=storage,
        rate_limit=f"{QUOTA}/minute",
        rate_limit_anonymous="2/minute",
        rate_limit_token="2/minute",
        rate_limit_clients={BOB.client_id: "1/minute"},
    )


def remaining(response: Any) -> int:
    match = re.fullmatch(r'"(\w+)";r=(\d+);t=(\d+)', response.headers["ratelimit"])
    assert match, response.headers["ratelimit"]
    assert 0 < int(match[3]) <= 60
    return int(match[2])


def assert_limited(response: Any, policy: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:contract-api:problem:rate-limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert response.headers["ratelimit"].startswith(f'"{policy}";r=0;')


class TestPerClient:
    def test_exactly_the_quota_then_429(self, client: TestClient) -> None:
        replies = [client.get("/api/users") for _ in range(QUOTA + 2)]
        assert [r.status_code for r in replies] == [200] * QUOTA + [429, 429]
        assert [remaining(r) for r in replies] == [2, 1, 0, 0, 0]
        for reply in replies:
            assert reply.headers["ratelimit-policy"] == f'"client";q={QUOTA};w=60'
        assert_limited(replies[-1], "client")

    def test_clients_have_their_own_budgets(self, client: TestClient) -> None:
        for _ in range(QUOTA):
            client.get("/api/users")
        assert client.get("/api/users").status_code == 429
        assert client.get("/api/users", headers=READER.headers).status_code == 200

    def test_per_client_override(self, client: TestClient) -> None:
        first = client.get("/api/users", headers=BOB.headers)
        assert first.status_code == 200
        assert first.headers["ratelimit-policy"] == '"client";q=1;w=60'
        assert_limited(client.get("/api/users", headers=BOB.headers), "client")

    def test_tokens_and_keys_share_the_clients_budget(self, anonymous: TestClient) -> None:
        token = anonymous.post(
            "/api/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(ALICE.client_id, ALICE.secret),
        ).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        statuses = [anonymous.get("/api/users", headers=bearer).status_code for _ in range(2)]
        statuses.append(anonymous.get("/api/users", headers=ALICE.headers).status_code)
        statuses.append(anonymous.get("/api/users", headers=ALICE.headers).status_code)
        assert statuses == [200, 200, 200, 429]


class TestAnonymous:
    def test_per_ip_on_open_operations(self, anonymous: TestClient) -> None:
        replies = [anonymous.get("/api/hello") for _ in range(3)]
        assert [r.status_code for r in replies] == [200, 200, 429]
        assert replies[0].headers["ratelimit-policy"] == '"anonymous";q=2;w=60'
        assert_limited(replies[-1], "anonymous")

    def test_failed_credentials_count_against_the_ip(self, anonymous: TestClient) -> None:
        bad = {"X-API-Key": "c_0000000000000000.guess"}
        statuses = [anonymous.get("/api/users", headers=bad).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]

    def test_token_endpoint_is_limited(self, anonymous: TestClient) -> None:
        form = {"grant_type": "client_credentials"}
        auth = (ALICE.client_id, ALICE.secret)
        replies = [anonymous.post("/api/oauth/token", data=form, auth=auth) for _ in range(3)]
        assert [r.status_code for r in replies] == [200, 200, 429]
        assert_limited(replies[-1], "token")


@pytest.mark.parametrize("storage", ["redis"], indirect=True)
class TestSharedBudget:
    def test_instances_share_one_budget(self, client_with: ClientWith) -> None:
        with (
            client_with(headers=ALICE.headers) as one,
            client_with(headers=ALICE.headers) as two,
        ):
            statuses = [
                one.get("/api/users").status_code,
                two.get("/api/users").status_code,
                one.get("/api/users").status_code,
                two.get("/api/users").status_code,
            ]
        assert statuses == [200, 200, 200, 429]


class TestRedisDown:
    @pytest.fixture
    def settings(self, database_url: str) -> Settings:
        return make_settings(
            database_url, redis_url="redis://127.0.0.1:1/0", rate_limit=f"{QUOTA}/minute"
        )

    @pytest.fixture
    def client(self, app: ContractApp) -> Iterator[TestClient]:
        with TestClient(app, headers=ALICE.headers) as client:
            yield client

    def test_falls_back_to_local_limits_and_says_so(
        self, client: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING, logger="server.ratelimit"):
            statuses = [client.get("/api/users").status_code for _ in range(QUOTA + 1)]
        assert statuses == [200] * QUOTA + [429]
        warnings = [r.getMessage() for r in caplog.records if r.name == "server.ratelimit"]
        assert len(warnings) == 1
        assert warnings[0].startswith("rate-limit storage unreachable")


class TestForbidden:
    def test_a_403_counts_to_the_client_not_its_address(self, client: TestClient) -> None:
        # READER has no dispatch:write. Charged to the address (2/minute), the third
        # call would be a 429; charged to READER's own budget (3/minute), it is a 403.
        forbidden = [
            client.post("/api/dispatch", json={"payload": {}}, headers=READER.headers)
            for _ in range(QUOTA)
        ]
        assert [r.status_code for r in forbidden] == [403] * QUOTA
        assert_limited(client.get("/api/users", headers=READER.headers), "client")
        assert [client.get("/api/hello").status_code for _ in range(2)] == [200, 200]
