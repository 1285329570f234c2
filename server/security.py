"""Who is calling and what they may do, checked through Connexion's security handlers.

The spec's security schemes name the two verifier functions below: ``api_key_info``
(``X-API-Key``) and ``token_info`` (``Authorization: Bearer <JWT>`` from the OAuth2
client-credentials flow). Each returns Connexion's token-info dict or raises a problem:
401 ``Unauthorized`` for a missing, unknown, revoked, expired or forged credential, 403
``Forbidden`` for a valid one without the operation's scope.

OpenAPI 3.0 lets only OAuth2 requirements list scopes, so each operation names its scope
once, in its OAuth2 requirement; ``AccessControl`` holds API keys to the same list. The
``admin`` scope implies every other scope, and an admin sees every client's data.

Verified clients are cached in memory for ``auth_cache_seconds``: no request pays a
database round trip for its credential, and a revocation takes effect on every instance
within that bound (at once on the instance that revoked).

``AccessControl`` also applies the rate limit: per client once authenticated, per IP for
anonymous calls and for calls whose credential failed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import jwt
from cachetools import TTLCache
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.security import SecurityAPI, SecurityMiddleware, SecurityOperation
from connexion.operations import AbstractOperation
from connexion.security import SecurityHandlerFactory
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from starlette.types import ASGIApp, Receive, Scope, Send

from server import compat
from server.compat import ApiKeyHandler, OAuthHandler
from server.errors import ServiceError
from server.http.problems import ApiProblem, Forbidden, InvalidClient, TooManyRequests, Unauthorized
from server.http.scope import AUTHENTICATOR, PRINCIPAL, request_info
from server.ratelimit import Policy, RateLimits
from server.services import clients
from server.services.clients import ClientRow
from server.telemetry import metrics

"""Scope key under which the authenticated ``Principal`` reaches the dispatcher."""

TOKEN_OPERATION = "issue_token"
INVALID_TOKEN = "invalid_token"  # RFC 6750 §3.1 error code


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated client and the scopes this request was granted."""

    client_id: str
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return clients.ADMIN in self.scopes

    @property
    def tenant(self) -> str | None:
        """Whose data this caller sees: its own, or everyone's (None) for an admin."""
        return None if self.is_admin else self.client_id

    def allows(self, required: Iterable[str]) -> bool:
        return self.is_admin or set(required) <= self.scopes

    def token_info(self) -> dict[str, Any]:
        effective = clients.SCOPES if self.is_admin else sorted(self.scopes)
        return {"sub": self.client_id, "scope": " ".join(effective), "principal": self}


@dataclass(frozen=True, slots=True)
class KnownClient:
    """What the cache keeps of a client: enough to check a secret and grant scopes."""

    client_id: str
    secret_hash: str
    scopes: frozenset[str]
    active: bool


def hs256_keys(secret: str) -> tuple[bytes, bytes]:
    """A key of its own, derived from the service secret (which also signs cursors)."""
    key = hmac.new(secret.encode(), b"access-token:HS256", hashlib.sha256).digest()
    return key, key


def rs256_keys(private_pem: bytes, public_pem: bytes) -> tuple[RSAPrivateKey, RSAPublicKey]:
    private = serialization.load_pem_private_key(private_pem, password=None)
    public = serialization.load_pem_public_key(public_pem)
    if not isinstance(private, RSAPrivateKey) or not isinstance(public, RSAPublicKey):
        raise ValueError("RS256 needs an RSA key pair")
    return private, public


class Tokens:
    """Signs and verifies access tokens: JWTs with one pinned algorithm (HS256 or RS256)."""

    def __init__(
        self,
        *,
        algorithm: str,
        keys: tuple[Any, Any],
        issuer: str,
        audience: str,
        lifetime: int,
        leeway: float,
    ) -> None:
        """``keys``: the signing and the verifying key (``hs256_keys``, ``rs256_keys``)."""
        self.algorithm = algorithm
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
        self.leeway = leeway
        self._signing_key, self._verifying_key = keys

    def issue(self, *, client_id: str, scopes: str) -> tuple[str, int]:
        """A signed access token (RFC 9068 claims) and its lifetime in seconds."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client_id,
            "client_id": client_id,
            "scope": scopes,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime,
            "jti": secrets.token_urlsafe(12),
        }
        token = jwt.encode(
            claims, self._signing_key, algorithm=self.algorithm, headers={"typ": "at+jwt"}
        )
        return token, self.lifetime

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; 401 for anything but a valid, current token of ours."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self.algorithm],  # pinned: no "none", no HS/RS confusion
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "scope"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The access token has expired.", error=INVALID_TOKEN) from None
        except jwt.ImmatureSignatureError:
            raise Unauthorized("The access token is not valid yet.", error=INVALID_TOKEN) from None
        except jwt.InvalidTokenError:
            # Signature, algorithm, audience, issuer, claims, shape: one answer for all, so
            # a forger learns nothing about which check failed.
            raise Unauthorized("The access token is not valid.", error=INVALID_TOKEN) from None
        if not isinstance(claims["sub"], str) or not isinstance(claims["scope"], str):
            raise Unauthorized("The access token is not valid.", error=INVALID_TOKEN)
        return claims


class Authenticator:
    """Turns credentials into principals, with verified clients cached for a bounded time."""

    def __init__(
        self,
        *,
        find: Callable[[str], Awaitable[ClientRow | None]],
        tokens: Tokens,
        cache_seconds: float,
    ) -> None:
        self._find = find  # the clients service's lookup, revoked or not
        self._tokens = tokens
        self._cache: TTLCache[str, KnownClient | None] | None = (
            TTLCache(maxsize=10_000, ttl=cache_seconds) if cache_seconds > 0 else None
        )

    async def client(self, client_id: str) -> KnownClient | None:
        """The client as the database had it at most ``cache_seconds`` ago (None: unknown)."""
        if self._cache is not None and client_id in self._cache:
            return self._cache[client_id]
        row = await self._find(client_id)
        known = (
            KnownClient(
                client_id=row.client_id,
                secret_hash=row.secret_hash,
                scopes=frozenset(row.scopes.split()),
                active=row.revoked_at is None,
            )
            if row is not None
            else None
        )
        if self._cache is not None:
            self._cache[client_id] = known
        return known

    def issue_token(self, client: KnownClient, *, scopes: str) -> tuple[str, int]:
        """An access token for ``client`` (authenticated by its credentials) with
        ``scopes``, and its lifetime in seconds."""
        return self._tokens.issue(client_id=client.client_id, scopes=scopes)

    def forget(self, client_id: str) -> None:
        """Drop a client from this instance's cache (after a change to it)."""
        if self._cache is not None:
            self._cache.pop(client_id, None)

    async def _verified(self, client_id: str | None, secret: str) -> KnownClient | None:
        """The active client ``client_id`` if ``secret`` is its secret, else None."""
        if client_id is None:
            return None
        known = await self.client(client_id)
        if known is None or not known.active:
            return None
        return known if clients.secret_matches(secret, known.secret_hash) else None

    async def from_api_key(self, api_key: str) -> Principal:
        known = await self._verified(clients.client_id_of(api_key), api_key)
        if known is None:
            raise Unauthorized("The API key is not valid.", error=INVALID_TOKEN)
        return Principal(known.client_id, known.scopes)

    async def from_token(self, token: str) -> Principal:
        claims = self._tokens.verify(token)
        known = await self.client(claims["sub"])
        if known is None or not known.active:
            raise Unauthorized("The access token is not valid.", error=INVALID_TOKEN)
        # Never more than the client holds now, whatever the token says.
        granted = frozenset(claims["scope"].split()) & clients.effective_scopes(known.scopes)
        return Principal(known.client_id, granted)

    async def from_client_credentials(self, client_id: str | None, secret: str) -> KnownClient:
        """Client authentication at the token endpoint (RFC 6749 §2.3.1)."""
        # The secret names its client: it must be the client the caller says it is.
        same = client_id is not None and clients.client_id_of(secret) == client_id
        known = await self._verified(client_id, secret) if same else None
        if known is None:
            raise InvalidClient("Unknown client, wrong secret, or revoked client.")
        return known

    @staticmethod
    def authorize(principal: Principal, required_scopes: list[str] | None) -> dict[str, Any]:
        required = required_scopes or []
        if not principal.allows(required):
            raise ScopeMissing(principal, required)
        return principal.token_info()


class ScopeMissing(Forbidden):
    """A 403 for a client we did authenticate: the call counts to its own budget."""

    def __init__(self, principal: Principal, required_scopes: list[str]) -> None:
        super().__init__(
            f"This operation needs the scope {' '.join(required_scopes)!r}.",
            required_scopes=required_scopes,
        )
        self.principal = principal


# --- The functions the spec names (x-apikeyInfoFunc, x-tokenInfoFunc) -----------------------


async def api_key_info(
    apikey: str, required_scopes: list[str] | None, request: ConnexionRequest
) -> dict[str, Any]:
    authenticator: Authenticator = request.scope[AUTHENTICATOR]
    return authenticator.authorize(await authenticator.from_api_key(apikey), required_scopes)


async def token_scheme_info(
    authorization: str, required_scopes: list[str] | None, request: ConnexionRequest
) -> Any:
    """``Authorization: Token <API key>``; any other scheme is not this one's to judge."""
    scheme, api_key = [*authorization.split(None, 1), "", ""][:2]
    if scheme.lower() != "token":
        return compat.NOT_THIS_SCHEME  # Connexion goes on to the next scheme (Bearer)
    api_key = api_key.strip()
    if not api_key:
        raise Unauthorized(
            "The Authorization header is malformed.",
            error="invalid_request",
        )
    if _looks_like_a_jwt(api_key):
        raise Unauthorized(
            "That is a bearer token, not an API key: send it as Authorization: Bearer <token>.",
            error=INVALID_TOKEN,
        )
    return await api_key_info(api_key, required_scopes, request)


def _looks_like_a_jwt(token: str) -> bool:
    return token.startswith("eyJ") and token.count(".") == 2


def _looks_like_an_api_key(token: str) -> bool:
    """``c_<id>.<secret>``, never a JWT (``header.payload.signature``, base64url JSON)."""
    return token.startswith("c_") and token.count(".") == 1


async def token_info(
    token: str, required_scopes: list[str] | None, request: ConnexionRequest
) -> dict[str, Any]:
    if _looks_like_an_api_key(token):
        raise Unauthorized(
            "That is an API key, not a bearer token: send it as an API key, or exchange it "
            "at /api/oauth/token.",
            error=INVALID_TOKEN,
        )
    authenticator: Authenticator = request.scope[AUTHENTICATOR]
    return authenticator.authorize(await authenticator.from_token(token), required_scopes)


# --- Connexion wiring ------------------------------------------------------------------------


class ClientAddress:
    """Who is calling, by IP: the connection's peer, or, when that peer is a proxy we
    trust, the address it says it forwarded for (``X-Forwarded-For``, read from the right:
    the first hop that is not a trusted proxy). uvicorn's own proxy handling is off
    (``python -m server``), so this is the only place that believes the header."""

    def __init__(self, trusted_proxies: Sequence[str] | None) -> None:
        self.trusted = [
            ipaddress.ip_network(entry, strict=False) for entry in trusted_proxies or ()
        ]

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def __call__(self, scope: Scope) -> str:
        client = scope.get("client")
        peer = client[0] if client else "unknown"
        if not self.trusted or not self._is_trusted(peer):
            return peer
        hops = [
            hop.strip()
            for name, value in scope["headers"]
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        for hop in reversed(hops):
            if hop and not self._is_trusted(hop):
                return hop[:64]
        return (hops[0] if hops and hops[0] else peer)[:64]


def _presents_credential(scope: Scope) -> bool:
    return any(
        name in (b"authorization", b"x-api-key") and value.strip()
        for name, value in scope["headers"]
    )


def _as_auth_problem(
    exc: ProblemException | ServiceError, required_scopes: list[str], scope: Scope
) -> ProblemException | ServiceError:
    """Connexion's own security errors (no credential, bad header) in our problem format;
    ours (401, 403, or a 503 when the client table cannot be read) pass through."""
    if isinstance(exc, ApiProblem | ServiceError):
        return exc
    if exc.status == 403:
        return Forbidden(
            f"This operation needs the scope {' '.join(required_scopes)!r}.",
            required_scopes=required_scopes,
        )
    # Told apart by the request, not by Connexion's wording of its error.
    if not _presents_credential(scope):
        return Unauthorized("This operation needs a credential.")
    return Unauthorized(
        "The Authorization header is malformed.",
        error="invalid_request",
    )


class Guard:
    """What ``AccessControl`` needs per app: the authenticator, the limits, the policies."""

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        rate_limits: RateLimits | None,
        trusted_proxies: Sequence[str] | None,
        client_limit: str,
        anonymous_limit: str,
        token_limit: str,
        client_limits: Mapping[str, str],
    ) -> None:
        """``trusted_proxies``: whose ``X-Forwarded-For`` is believed (None: nobody's);
        the limits in limits' notation (``600/minute``), ``client_limits`` per client id."""
        self.authenticator = authenticator
        self.rate_limits = rate_limits
        self.client_address = ClientAddress(trusted_proxies)
        self.client_policy = Policy.parse("client", client_limit)
        self.anonymous_policy = Policy.parse("anonymous", anonymous_limit)
        self.token_policy = Policy.parse("token", token_limit)
        self.client_policies = {
            client_id: Policy.parse("client", limit) for client_id, limit in client_limits.items()
        }

    async def limit(
        self, scope: Scope, principal: Principal | None, anonymous: Policy
    ) -> dict[str, str]:
        """Count this call; the RateLimit fields to send, or ``TooManyRequests``."""
        if self.rate_limits is None:
            return {}
        if principal is not None:
            policy = self.client_policies.get(principal.client_id, self.client_policy)
            key = principal.client_id
        else:
            policy, key = anonymous, "ip:" + self.client_address(scope)
        try:
            return await self.rate_limits.enforce(policy, key)
        except TooManyRequests:
            metrics.RATE_LIMITED.labels(policy.name).inc()
            raise


class AccessControlOperation(SecurityOperation):
    """Authenticate (Connexion's handlers), authorize the scopes, count the rate limit."""

    def __init__(
        self,
        next_app: ASGIApp,
        *,
        operation: AbstractOperation,
        guard: Guard,
        security_handler_factory: SecurityHandlerFactory,
        probe: bool = False,
    ) -> None:
        # Every scheme of the operation requires the scopes its OAuth2 requirement names.
        requirements = operation.security or []
        scopes = sorted({s for r in requirements for s in chain.from_iterable(r.values())})
        self.required_scopes = scopes
        self.guard = guard
        # Connexion's ids are resolved names: "server.handlers.oauth.issue_token".
        self.operation_name = str(operation.operation_id).rpartition(".")[2]
        # Health probes (x-probe in the spec) are never rate limited: a load balancer's
        # checks must not spend a budget, nor be refused when one is spent.
        self.probe = probe
        self.anonymous_policy = (
            guard.token_policy if self.operation_name == TOKEN_OPERATION else guard.anonymous_policy
        )
        super().__init__(
            next_app,
            security_handler_factory=security_handler_factory,
            security=[{name: scopes for name in r} for r in requirements],
            security_schemes=operation.security_schemes,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        info = request_info(scope)
        if info is not None:
            info.operation = self.operation_name
            info.probe = self.probe
        principal: Principal | None = None
        failure: ProblemException | ServiceError | None = None
        if self.security:
            scope[AUTHENTICATOR] = self.guard.authenticator
            request = ConnexionRequest(scope)
            try:
                await self.verification_fn(request)
                principal = request.context["token_info"]["principal"]
            except ScopeMissing as exc:
                failure, principal = exc, exc.principal  # known, only not allowed
            except (ProblemException, ServiceError) as exc:
                failure = _as_auth_problem(exc, self.required_scopes, scope)
        if principal is not None and info is not None:
            info.client_id = principal.client_id
        if not self.probe:
            fields = await self.guard.limit(scope, principal, self.anonymous_policy)
            if info is not None:  # the edge puts them on this answer, whatever it is
                info.headers += [
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in fields.items()
                ]
        if failure is not None:
            raise failure
        scope[PRINCIPAL] = principal
        await self.next_app(scope, receive, send)


class AccessControlAPI(SecurityAPI):
    def __init__(self, *args: Any, guard: Guard, **kwargs: Any) -> None:
        self.guard = guard
        kwargs["security_map"] = {"apiKey": ApiKeyHandler, "oauth2": OAuthHandler}
        super().__init__(*args, **kwargs)

    def make_operation(self, operation: Any) -> AccessControlOperation:
        raw = self.specification.raw["paths"][operation.path][operation.method]
        return AccessControlOperation(
            self.next_app,
            operation=operation,
            guard=self.guard,
            security_handler_factory=self.security_handler_factory,
            probe=bool(raw.get("x-probe", False)),
        )


class AccessControl(SecurityMiddleware):
    """Connexion's security middleware, plus scopes for API keys and rate limits."""

    api_cls = AccessControlAPI  # type: ignore[assignment]

    def __init__(self, app: ASGIApp, *, guard: Guard) -> None:
        super().__init__(app)
        self.guard = guard

    def add_api(self, specification: Any, **kwargs: Any) -> Any:
        return super().add_api(specification, guard=self.guard, **kwargs)
