from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.o_auth_problem import OAuthProblem
from ...models.problem import Problem
from ...models.token_request import TokenRequest
from ...models.token_response import TokenResponse
from ...types import Response


def _get_kwargs(
    *,
    body: TokenRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/oauth/token",
    }

    _kwargs["data"] = body.to_dict()
    headers["Content-Type"] = "application/x-www-form-urlencoded"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> OAuthProblem | Problem | TokenResponse | None:
    if response.status_code == 200:
        response_200 = TokenResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = OAuthProblem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = OAuthProblem.from_dict(response.json())

        return response_401

    if response.status_code == 405:
        response_405 = Problem.from_dict(response.json())

        return response_405

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 414:
        response_414 = Problem.from_dict(response.json())

        return response_414

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[OAuthProblem | Problem | TokenResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: TokenRequest,
) -> Response[OAuthProblem | Problem | TokenResponse]:
    """Get an access token (OAuth2 client credentials)

     The client-credentials grant of RFC 6749 §4.4. Authenticate the client with HTTP
    Basic (`client_id:client_secret`) or with the `client_id` and `client_secret` form
    fields, not both (with Basic, a form `client_id` may repeat the Basic one, and any
    other is `400 invalid_request`). The answer is a short-lived JWT to send as
    `Authorization: Bearer <access_token>`; it carries the requested `scope` (by default
    every scope of the client). Refusals are problem documents that also carry
    OAuth2's `error` and `error_description` members (RFC 6749 §5.2).

    Args:
        body (TokenRequest): RFC 6749 §4.4.2. Unknown fields are ignored (RFC 6749 §3.2). A form
            that does not
            match this schema is a `validation-error` problem that also carries OAuth2's `error`
            (`invalid_scope` when only `scope` is wrong, else `invalid_request`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OAuthProblem | Problem | TokenResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: TokenRequest,
) -> OAuthProblem | Problem | TokenResponse | None:
    """Get an access token (OAuth2 client credentials)

     The client-credentials grant of RFC 6749 §4.4. Authenticate the client with HTTP
    Basic (`client_id:client_secret`) or with the `client_id` and `client_secret` form
    fields, not both (with Basic, a form `client_id` may repeat the Basic one, and any
    other is `400 invalid_request`). The answer is a short-lived JWT to send as
    `Authorization: Bearer <access_token>`; it carries the requested `scope` (by default
    every scope of the client). Refusals are problem documents that also carry
    OAuth2's `error` and `error_description` members (RFC 6749 §5.2).

    Args:
        body (TokenRequest): RFC 6749 §4.4.2. Unknown fields are ignored (RFC 6749 §3.2). A form
            that does not
            match this schema is a `validation-error` problem that also carries OAuth2's `error`
            (`invalid_scope` when only `scope` is wrong, else `invalid_request`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OAuthProblem | Problem | TokenResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: TokenRequest,
) -> Response[OAuthProblem | Problem | TokenResponse]:
    """Get an access token (OAuth2 client credentials)

     The client-credentials grant of RFC 6749 §4.4. Authenticate the client with HTTP
    Basic (`client_id:client_secret`) or with the `client_id` and `client_secret` form
    fields, not both (with Basic, a form `client_id` may repeat the Basic one, and any
    other is `400 invalid_request`). The answer is a short-lived JWT to send as
    `Authorization: Bearer <access_token>`; it carries the requested `scope` (by default
    every scope of the client). Refusals are problem documents that also carry
    OAuth2's `error` and `error_description` members (RFC 6749 §5.2).

    Args:
        body (TokenRequest): RFC 6749 §4.4.2. Unknown fields are ignored (RFC 6749 §3.2). A form
            that does not
            match this schema is a `validation-error` problem that also carries OAuth2's `error`
            (`invalid_scope` when only `scope` is wrong, else `invalid_request`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OAuthProblem | Problem | TokenResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: TokenRequest,
) -> OAuthProblem | Problem | TokenResponse | None:
    """Get an access token (OAuth2 client credentials)

     The client-credentials grant of RFC 6749 §4.4. Authenticate the client with HTTP
    Basic (`client_id:client_secret`) or with the `client_id` and `client_secret` form
    fields, not both (with Basic, a form `client_id` may repeat the Basic one, and any
    other is `400 invalid_request`). The answer is a short-lived JWT to send as
    `Authorization: Bearer <access_token>`; it carries the requested `scope` (by default
    every scope of the client). Refusals are problem documents that also carry
    OAuth2's `error` and `error_description` members (RFC 6749 §5.2).

    Args:
        body (TokenRequest): RFC 6749 §4.4.2. Unknown fields are ignored (RFC 6749 §3.2). A form
            that does not
            match this schema is a `validation-error` problem that also carries OAuth2's `error`
            (`invalid_scope` when only `scope` is wrong, else `invalid_request`).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OAuthProblem | Problem | TokenResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
