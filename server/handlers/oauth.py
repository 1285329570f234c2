"""Handlers for the ``oauth`` tag: the token endpoint of the client-credentials grant."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from starlette.requests import Request

from server.http.problems import InvalidClient, OAuthError
from server.security import Authenticator
from server.services.clients import SCOPES, effective_scopes


def _basic_credentials(header: str) -> tuple[str, str]:
    """RFC 6749 §2.3.1: id and secret form-urlencoded, joined by ':', in base64."""
    try:
        decoded = base64.b64decode(header.split(None, 1)[1], validate=True).decode("utf-8")
        client_id, secret = decoded.split(":", 1)
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidClient("The Basic credentials are malformed.") from None
    return unquote_plus(client_id), unquote_plus(secret)


def _client_credentials(request: Request, body: dict[str, Any]) -> tuple[str | None, str]:
    header = request.headers.get("authorization", "")
    in_body = "client_secret" in body
    if header[:6].lower() == "basic ":
        if in_body:
            raise OAuthError(
                "invalid_request", "Authenticate with HTTP Basic or with form fields, not both."
            )
        client_id, secret = _basic_credentials(header)
        if body.get("client_id", client_id) != client_id:
            raise OAuthError(
                "invalid_request", "The form's client_id is not the one in the Basic credentials."
            )
        return client_id, secret
    if not in_body:
        raise InvalidClient("No client credentials: use HTTP Basic or client_id/client_secret.")
    return body.get("client_id"), body["client_secret"]


def _granted_scopes(requested: str | None, held: frozenset[str]) -> str:
    """RFC 6749 §3.3: the requested scopes if the client holds them all; all it holds if none."""
    if requested is None or not requested.strip():
        return " ".join(scope for scope in SCOPES if scope in held)
    wanted = set(requested.split())
    if not wanted <= effective_scopes(held):  # an admin may ask for any narrower scope
        raise OAuthError("invalid_scope", "The client does not hold every requested scope.")
    return " ".join(scope for scope in SCOPES if scope in wanted)


async def issue_token(
    body: dict[str, Any], request: Request, authenticator: Authenticator
) -> tuple[dict[str, Any], int, dict[str, str]]:
    # grant_type is `client_credentials`: the spec says so, and validation saw to it.
    client_id, secret = _client_credentials(request, body)
    client = await authenticator.from_client_credentials(client_id, secret)
    scope = _granted_scopes(body.get("scope"), client.scopes)
    token, lifetime = authenticator.issue_token(client, scopes=scope)
    answer = {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": scope}
    return answer, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}
