"""Credentials, scopes, the token endpoint and client management.

Every way a credential can be wrong must end in 401 (never a 2xx), a good credential
without the operation's scope in 403, and both carry ``WWW-Authenticate``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from server.settings import Settings
from tests.api.helpers import PROBLEM
from tests.config import TEST_SECRET, ClientWith, make_settings
from tests.identities import ADMIN, ALICE, BOB, READER, Identity

TOKEN_URL = "/api/oauth/token"
UNAUTHORIZED = "urn:contract-api:problem:unauthorized"


def hs256_key(secret: str = TEST_SECRET) -> bytes:
    """The service's derivation of its HS256 key from the secret (a forger would need it)."""
    return hmac.new(secret.encode(), b"access-token:HS256", hashlib.sha256).digest()


def claims(identity: Identity = ALICE, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {
        "iss": "contract-api",
        "aud": "contract-api",
        "sub": identity.client_id,
        "scope": identity.scopes,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(client: TestClient, identity: Identity, **form: str) -> str:
    response = client.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", **form},
        auth=(identity.client_id, identity.secret),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def rsa_keys(tmp_path: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = tmp_path / "private.pem"
    public = tmp_path / "public.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def assert_unauthorized(response: Any, detail: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith('Bearer realm="contract-api"')
    body = response.json()
    assert body["type"] == UNAUTHORIZED
    # Every 401 says what is wrong, then which credentials are accepted.
    assert body["detail"].endswith(f" {ACCEPTED}")
    if detail is not None:
        assert body["detail"] == f"{detail} {ACCEPTED}"


ACCEPTED = (
    "Accepted: X-API-Key: <API key>, Authorization: Token <API key>, "
    "or Authorization: Bearer <token from /api/oauth/token>."
)


class TestTokenScheme:
    """``Authorization: Token <API key>``, as the REST tutorials send it."""

    @pytest.mark.parametrize("scheme", ["Token", "token", "TOKEN"])
    def test_the_tutorials_header_is_an_api_key(self, anonymous: TestClient, scheme: str) -> None:
        response = anonymous.get(
            "/api/users", headers={"Authorization": f"{scheme} {ALICE.secret}"}
        )
        assert response.status_code == 200, response.text

    def test_it_is_held_to_the_keys_scopes(self, anonymous: TestClient) -> None:
        response = anonymous.get("/api/clients", headers={"Authorization": f"Token {ALICE.secret}"})
        assert response.status_code == 403

    def test_a_wrong_key_is_401(self, anonymous: TestClient) -> None:
        wrong = {"Authorization": f"Token {ALICE.client_id}.wrong-secret"}
        assert_unauthorized(anonymous.get("/api/users", headers=wrong), "The API key is not valid.")

    def test_an_api_key_sent_as_a_bearer_token_is_told_where_it_goes(
        self, anonymous: TestClient
    ) -> None:
        response = anonymous.get("/api/users", headers=bearer(ALICE.secret))
        assert_unauthorized(
            response,
            "That is an API key, not a bearer token: send it as an API key, or exchange it "
            "at /api/oauth/token.",
        )

    def test_a_bearer_token_sent_as_a_token_is_told_where_it_goes(
        self, anonymous: TestClient
    ) -> None:
        token = token_for(anonymous, ALICE)
        response = anonymous.get("/api/users", headers={"Authorization": f"Token {token}"})
        assert_unauthorized(
            response,
            "That is a bearer token, not an API key: send it as Authorization: Bearer <token>.",
        )

    @pytest.mark.parametrize("header", ["Token", "Token   "])
    def test_a_token_scheme_without_a_key_is_malformed(
        self, anonymous: TestClient, header: str
    ) -> None:
        response = anonymous.get("/api/users", headers={"Authorization": header})
        assert_unauthorized(response, "The Authorization header is malformed.")

    def test_any_whitespace_separates_scheme_and_key(self, anonymous: TestClient) -> None:
        headers = {"Authorization": f"Token\t{ALICE.secret}"}
        assert anonymous.get("/api/users", headers=headers).status_code == 200

    def test_bearer_tokens_still_work_beside_it(self, anonymous: TestClient) -> None:
        token = token_for(anonymous, ALICE)
        assert anonymous.get("/api/users", headers=bearer(token)).status_code == 200


class TestApiKey:
    def test_no_credential_is_401_with_challenge(self, anonymous: TestClient) -> None:
        response = anonymous.get("/api/users")
        assert_unauthorized(response, "This operation needs a credential.")
        assert response.headers["www-authenticate"] == (
            'Bearer realm="contract-api", Token realm="contract-api"'
        )

    @pytest.mark.parametrize(
        "key",
        [
            pytest.param("nonsense", id="not-shaped-like-a-key"),
            pytest.param("c_0000000000000000.unknown-client", id="unknown-client"),
            pytest.param(f"{ALICE.client_id}.wrong-secret", id="wrong-secret"),
            pytest.param(ALICE.secret + "x", id="secret-plus-a-char"),
            pytest.param(BOB.secret.replace(BOB.client_id, ALICE.client_id), id="other-secret"),
            pytest.param("", id="empty"),
        ],
    )
    def test_wrong_key_is_401(self, anonymous: TestClient, key: str) -> None:
        response = anonymous.get("/api/users", headers={"X-API-Key": key})
        assert_unauthorized(response)
        assert 'error="invalid_token"' in response.headers["www-authenticate"] or key == ""

    def test_good_key_is_accepted(self, anonymous: TestClient) -> None:
        assert anonymous.get("/api/users", headers=ALICE.headers).status_code == 200

    def test_revoked_key_is_401_at_once(self, anonymous: TestClient) -> None:
        created = anonymous.post(
            "/api/clients", json={"name": "temp", "scopes": ["users:read"]}, headers=ADMIN.headers
        ).json()
        key = {"X-API-Key": created["client_secret"]}
        assert anonymous.get("/api/users", headers=key).status_code == 200  # now cached
        revoked = anonymous.post(
            f"/api/clients/{created['client_id']}/revoke", headers=ADMIN.headers
        )
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
        assert_unauthorized(anonymous.get("/api/users", headers=key))

    def test_revocation_reaches_other_instances_within_the_cache_bound(
        self, client_with: ClientWith
    ) -> None:
        """Two apps on one database: the one that did not revoke forgets within the TTL."""
        with (
            client_with(auth_cache_seconds=0.5) as here,
            client_with(auth_cache_seconds=0.5) as there,
        ):
            created = here.post(
                "/api/clients", json={"name": "t", "scopes": ["users:read"]}, headers=ADMIN.headers
            ).json()
            key = {"X-API-Key": created["client_secret"]}
            assert there.get("/api/users", headers=key).status_code == 200
            here.post(f"/api/clients/{created['client_id']}/revoke", headers=ADMIN.headers)
            time.sleep(0.6)
            assert_unauthorized(there.get("/api/users", headers=key))


class TestBearerToken:
    def test_issued_token_is_accepted(self, anonymous: TestClient) -> None:
        token = token_for(anonymous, ALICE)
        assert anonymous.get("/api/users", headers=bearer(token)).status_code == 200

    @pytest.mark.parametrize(
        ("token", "detail"),
        [
            pytest.param(
                lambda: jwt.encode(claims(exp=int(time.time()) - 60), hs256_key()),
                "The access token has expired.",
                id="expired",
            ),
            pytest.param(
                lambda: jwt.encode(claims(nbf=int(time.time()) + 600), hs256_key()),
                "The access token is not valid yet.",
                id="not-yet-valid",
            ),
            pytest.param(
                lambda: jwt.encode(claims(), hs256_key("another-secret-0123456789abcdef012")),
                "The access token is not valid.",
                id="bad-signature",
            ),
            pytest.param(
                lambda: jwt.encode(claims(aud="someone-else"), hs256_key()),
                "The access token is not valid.",
                id="wrong-audience",
            ),
            pytest.param(
                lambda: jwt.encode(claims(iss="https://evil.example"), hs256_key()),
                "The access token is not valid.",
                id="wrong-issuer",
            ),
            pytest.param(
                lambda: jwt.encode(claims(exp=None), hs256_key()),
                "The access token is not valid.",
                id="no-expiry",
            ),
            pytest.param(
                lambda: jwt.encode(claims(sub="c_0000000000000000"), hs256_key()),
                "The access token is not valid.",
                id="unknown-client",
            ),
            pytest.param(
                lambda: unsigned({"alg": "none", "typ": "JWT"}, claims()) + ".",
                "The access token is not valid.",
                id="alg-none",
            ),
            pytest.param(
                lambda: jwt.encode(
                    claims(),
                    rsa.generate_private_key(public_exponent=65537, key_size=2048),
                    algorithm="RS256",
                ),
                "The access token is not valid.",
                id="rs256-to-an-hs256-service",
            ),
            pytest.param(lambda: "not-a-jwt", "The access token is not valid.", id="malformed"),
            pytest.param(lambda: "a.b.c", "The access token is not valid.", id="garbage-parts"),
        ],
    )
    def test_bad_token_is_401(self, anonymous: TestClient, token: Any, detail: str) -> None:
        response = anonymous.get("/api/users", headers=bearer(token()))
        assert_unauthorized(response, detail)
        assert 'error="invalid_token"' in response.headers["www-authenticate"]

    def test_malformed_authorization_header_is_401(self, anonymous: TestClient) -> None:
        response = anonymous.get("/api/users", headers={"Authorization": "Bearer"})
        assert_unauthorized(response, "The Authorization header is malformed.")

    def test_token_of_revoked_client_is_401(self, anonymous: TestClient) -> None:
        created = anonymous.post(
            "/api/clients", json={"name": "t", "scopes": ["users:read"]}, headers=ADMIN.headers
        ).json()
        identity = Identity(created["client_id"], "t", "users:read")
        response = anonymous.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials"},
            auth=(identity.client_id, created["client_secret"]),
        )
        token = response.json()["access_token"]
        assert anonymous.get("/api/users", headers=bearer(token)).status_code == 200
        anonymous.post(f"/api/clients/{identity.client_id}/revoke", headers=ADMIN.headers)
        assert_unauthorized(anonymous.get("/api/users", headers=bearer(token)))


class TestRS256:
    @pytest.fixture
    def settings(self, database_url: str, rsa_keys: tuple[Path, Path]) -> Settings:
        private, public = rsa_keys
        return make_settings(
            database_url,
            jwt_algorithm="RS256",
            jwt_private_key_file=private,
            jwt_public_key_file=public,
        )

    def test_issues_and_accepts_rs256_tokens(self, anonymous: TestClient) -> None:
        token = token_for(anonymous, ALICE)
        assert jwt.get_unverified_header(token)["alg"] == "RS256"
        assert anonymous.get("/api/users", headers=bearer(token)).status_code == 200

    def test_hs256_signed_with_the_public_key_is_401(
        self, anonymous: TestClient, rsa_keys: tuple[Path, Path]
    ) -> None:
        """Algorithm confusion: the public key (which anyone may have) used as HMAC secret."""
        public_pem = rsa_keys[1].read_bytes()
        signing_input = unsigned({"alg": "HS256", "typ": "JWT"}, claims())
        signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        forged = f"{signing_input}.{b64(signature)}"
        assert_unauthorized(
            anonymous.get("/api/users", headers=bearer(forged)), "The access token is not valid."
        )

    def test_hs256_with_the_service_secret_is_401(self, anonymous: TestClient) -> None:
        forged = jwt.encode(claims(), hs256_key())
        assert_unauthorized(anonymous.get("/api/users", headers=bearer(forged)))


class TestScopes:
    def test_missing_scope_is_403_naming_it(self, anonymous: TestClient) -> None:
        response = anonymous.post(
            "/api/users", json={"name": "x", "email": "x@example.com"}, headers=READER.headers
        )
        assert response.status_code == 403
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"] == (
            'Bearer realm="contract-api", error="insufficient_scope", scope="users:write"'
        )
        assert response.json() == {
            "type": "urn:contract-api:problem:insufficient-scope",
            "title": "Forbidden",
            "status": 403,
            "detail": "This operation needs the scope 'users:write'.",
            "instance": "/api/users",
        }

    def test_reader_can_read(self, anonymous: TestClient) -> None:
        assert anonymous.get("/api/users", headers=READER.headers).status_code == 200

    def test_client_management_needs_admin(self, anonymous: TestClient) -> None:
        assert anonymous.get("/api/clients", headers=ALICE.headers).status_code == 403
        assert anonymous.get("/api/clients", headers=ADMIN.headers).status_code == 200

    def test_admin_implies_every_scope(self, anonymous: TestClient) -> None:
        body = {"user_id": 1, "item_id": 1, "quantity": 1}
        response = anonymous.post("/api/process_data", json=body, headers=ADMIN.headers)
        assert response.status_code == 200

    def test_narrowed_token_is_held_to_its_scope(self, anonymous: TestClient) -> None:
        token = token_for(anonymous, ALICE, scope="users:read")
        assert anonymous.get("/api/users", headers=bearer(token)).status_code == 200
        response = anonymous.post(
            "/api/users", json={"name": "x", "email": "x@example.com"}, headers=bearer(token)
        )
        assert response.status_code == 403

    def test_admin_may_ask_for_a_narrower_token(self, anonymous: TestClient) -> None:
        token = token_for(anonymous, ADMIN, scope="users:read")
        assert anonymous.get("/api/users", headers=bearer(token)).status_code == 200
        assert anonymous.get("/api/clients", headers=bearer(token)).status_code == 403

    def test_token_never_exceeds_the_client(self, anonymous: TestClient) -> None:
        """A token claiming more than its client holds (signed by us) gets only the overlap."""
        inflated = jwt.encode(claims(READER, scope="users:read users:write"), hs256_key())
        response = anonymous.post(
            "/api/users", json={"name": "x", "email": "x@example.com"}, headers=bearer(inflated)
        )
        assert response.status_code == 403

    def test_hello_needs_no_credential(self, anonymous: TestClient) -> None:
        assert anonymous.get("/api/hello").status_code == 200


class TestTokenEndpoint:
    def test_basic_authentication(self, anonymous: TestClient) -> None:
        response = anonymous.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials"},
            auth=(ALICE.client_id, ALICE.secret),
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 900
        assert body["scope"] == ALICE.scopes
        decoded = jwt.decode(
            body["access_token"],
            hs256_key(),
            algorithms=["HS256"],
            audience="contract-api",
            issuer="contract-api",
        )
        assert decoded["sub"] == ALICE.client_id
        assert decoded["exp"] - decoded["iat"] == 900
        assert jwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"

    def test_form_authentication(self, anonymous: TestClient) -> None:
        response = anonymous.post(
            TOKEN_URL,
            data={
                "grant_type": "client_credentials",
                "client_id": ALICE.client_id,
                "client_secret": ALICE.secret,
                "scope": "records:read",
                "unknown_parameter": "ignored",
            },
        )
        assert response.status_code == 200
        assert response.json()["scope"] == "records:read"

    @pytest.mark.parametrize(
        ("form", "auth", "status", "error"),
        [
            pytest.param({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
            pytest.param(
                {"grant_type": "client_credentials"},
                (ALICE.client_id, "wrong"),
                401,
                "invalid_client",
                id="wrong-secret",
            ),
            pytest.param(
                {"grant_type": "client_credentials"},
                (BOB.client_id, ALICE.secret),
                401,
                "invalid_client",
                id="secret-of-another-client",
            ),
            pytest.param(
                {}, (ALICE.client_id, ALICE.secret), 400, "invalid_request", id="no-grant"
            ),
            pytest.param(
                {"grant_type": "password"},
                (ALICE.client_id, ALICE.secret),
                400,
                "unsupported_grant_type",
                id="password-grant",
            ),
            pytest.param(
                {"grant_type": "client_credentials", "scope": "admin"},
                (ALICE.client_id, ALICE.secret),
                400,
                "invalid_scope",
                id="scope-not-held",
            ),
            pytest.param(
                {
                    "grant_type": "client_credentials",
                    "client_id": ALICE.client_id,
                    "client_secret": ALICE.secret,
                },
                (ALICE.client_id, ALICE.secret),
                400,
                "invalid_request",
                id="two-methods",
            ),
            # RFC 6749 §2.3.1 lets a Basic request name its client_id in the form too; a
            # form naming another client, or none there is, is a contradiction, not a hint.
            pytest.param(
                {"grant_type": "client_credentials", "client_id": BOB.client_id},
                (ALICE.client_id, ALICE.secret),
                400,
                "invalid_request",
                id="basic-and-another-client-id",
            ),
            pytest.param(
                {"grant_type": "client_credentials", "client_id": "nobody"},
                (ALICE.client_id, ALICE.secret),
                400,
                "invalid_request",
                id="basic-and-an-unknown-client-id",
            ),
        ],
    )
    def test_refusals_carry_the_oauth_error(
        self,
        anonymous: TestClient,
        form: dict[str, str],
        auth: tuple[str, str] | None,
        status: int,
        error: str,
    ) -> None:
        response = anonymous.post(TOKEN_URL, data=form, auth=auth)
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
        body = response.json()
        assert body["error"] == error
        assert body["error_description"] == body["detail"]
        if status == 401:
            assert response.headers["www-authenticate"] == 'Basic realm="contract-api"'

    def test_basic_with_its_own_client_id_in_the_form_is_accepted(
        self, anonymous: TestClient
    ) -> None:
        response = anonymous.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials", "client_id": ALICE.client_id},
            auth=(ALICE.client_id, ALICE.secret),
        )
        assert response.status_code == 200, response.text

    def test_repeated_parameter_is_400(self, anonymous: TestClient) -> None:
        response = anonymous.post(
            TOKEN_URL,
            content=b"grant_type=client_credentials&grant_type=client_credentials",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=(ALICE.client_id, ALICE.secret),
        )
        assert response.status_code == 400
        body = response.json()
        assert body["errors"] == [{"field": "grant_type", "message": "must not be repeated"}]
        assert body["error"] == "invalid_request"  # RFC 6749 §5.2, as on every 400 here

    def test_unknown_parameters_are_ignored_even_repeated(self, anonymous: TestClient) -> None:
        """RFC 6749 §3.2: the server ignores parameters it does not know."""
        response = anonymous.post(
            TOKEN_URL,
            content=b"grant_type=client_credentials&x=1&x=2&resource=a",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=(ALICE.client_id, ALICE.secret),
        )
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize(
        ("form", "error"),
        [
            ({"grant_type": "client_credentials", "scope": "users:read nonsense"}, "invalid_scope"),
            ({"grant_type": "password"}, "unsupported_grant_type"),
            ({"grant_type": ""}, "invalid_request"),
            ({"grant_type": "client_credentials", "client_id": "c_1\u0000"}, "invalid_request"),
        ],
    )
    def test_a_form_that_breaks_the_schema_carries_the_oauth_error(
        self, anonymous: TestClient, form: dict[str, str], error: str
    ) -> None:
        response = anonymous.post(TOKEN_URL, data=form, auth=(ALICE.client_id, ALICE.secret))
        assert response.status_code == 400
        body = response.json()
        assert body["type"] == "urn:contract-api:problem:validation-error"
        assert (body["error"], body["error_description"]) == (error, body["detail"])

    def test_a_query_parameter_400_carries_the_oauth_error(self, anonymous: TestClient) -> None:
        response = anonymous.post(
            TOKEN_URL + "?debug=1",
            data={"grant_type": "client_credentials"},
            auth=(ALICE.client_id, ALICE.secret),
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"

    def test_malformed_basic_header_is_401(self, anonymous: TestClient) -> None:
        response = anonymous.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic !!!"},
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"

    def test_json_body_is_415(self, anonymous: TestClient) -> None:
        response = anonymous.post(TOKEN_URL, json={"grant_type": "client_credentials"})
        assert response.status_code == 415

    def test_revoked_client_gets_no_token(self, anonymous: TestClient) -> None:
        created = anonymous.post(
            "/api/clients", json={"name": "t", "scopes": ["users:read"]}, headers=ADMIN.headers
        ).json()
        anonymous.post(f"/api/clients/{created['client_id']}/revoke", headers=ADMIN.headers)
        response = anonymous.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials"},
            auth=(created["client_id"], created["client_secret"]),
        )
        assert response.status_code == 401


class TestClientManagement:
    def test_create_shows_the_secret_once(self, admin: TestClient) -> None:
        response = admin.post(
            "/api/clients", json={"name": "batch", "scopes": ["records:read", "process:write"]}
        )
        assert response.status_code == 201
        created = response.json()
        assert created["scopes"] == ["process:write", "records:read"]
        assert created["revoked_at"] is None
        assert response.headers["location"] == f"/api/clients/{created['client_id']}"
        fetched = admin.get(response.headers["location"]).json()
        assert "client_secret" not in fetched
        assert fetched == {k: v for k, v in created.items() if k != "client_secret"}
        records = admin.get("/api/records", headers={"X-API-Key": created["client_secret"]})
        assert records.status_code == 200

    def test_list_pages_through_every_client(self, admin: TestClient) -> None:
        seen: list[str] = []
        url: str | None = "/api/clients?limit=2"
        while url:
            page = admin.get(url)
            assert page.status_code == 200
            seen += [c["client_id"] for c in page.json()["items"]]
            url = page.headers.get("link", "").partition(">")[0].lstrip("<") or None
        assert set(seen) == {ALICE.client_id, BOB.client_id, READER.client_id, ADMIN.client_id}
        assert len(seen) == 4

    def test_revoke_keeps_the_client_readable(self, admin: TestClient) -> None:
        first = admin.post(f"/api/clients/{READER.client_id}/revoke")
        assert first.status_code == 200 and first.json()["revoked_at"] is not None
        again = admin.post(f"/api/clients/{READER.client_id}/revoke")  # harmless
        assert again.status_code == 200 and again.json() == first.json()
        assert admin.get(f"/api/clients/{READER.client_id}").json() == first.json()
        listed = admin.get("/api/clients", params={"limit": 100}).json()["items"]
        assert first.json() in listed

    def test_a_client_cannot_revoke_itself(self, admin: TestClient) -> None:
        refused = admin.post(f"/api/clients/{ADMIN.client_id}/revoke")
        assert refused.status_code == 409
        assert refused.json()["type"] == "urn:contract-api:problem:conflict"
        assert admin.get(f"/api/clients/{ADMIN.client_id}").json()["revoked_at"] is None
        assert admin.get("/api/users").status_code == 200  # its key still works

    def test_delete_is_not_an_operation(self, admin: TestClient) -> None:
        """Revoking is not deleting: DELETE is refused, and the client stays."""
        refused = admin.delete(f"/api/clients/{READER.client_id}")
        assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"
        assert admin.get(f"/api/clients/{READER.client_id}").json()["revoked_at"] is None

    def test_unknown_client_is_404(self, admin: TestClient) -> None:
        assert admin.get("/api/clients/c_0000000000000000").status_code == 404
        assert admin.post("/api/clients/c_0000000000000000/revoke").status_code == 404

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "x", "scopes": ["root"]},
            {"name": "x", "scopes": []},
            {"name": "", "scopes": ["admin"]},
            {"name": "x", "scopes": ["admin", "admin"]},
        ],
    )
    def test_bad_input_is_400(self, admin: TestClient, body: dict[str, Any]) -> None:
        assert admin.post("/api/clients", json=body).status_code == 400
