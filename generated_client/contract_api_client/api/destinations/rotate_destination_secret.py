from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.destination import Destination
from ...models.problem import Problem
from ...models.secret_rotation import SecretRotation
from ...types import UNSET, Response, Unset


def _get_kwargs(
    name: str,
    *,
    body: SecretRotation | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/destinations/{name}/rotate-secret".format(
            name=quote(str(name), safe=""),
        ),
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Destination | Problem | None:
    if response.status_code == 200:
        response_200 = Destination.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 405:
        response_405 = Problem.from_dict(response.json())

        return response_405

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 414:
        response_414 = Problem.from_dict(response.json())

        return response_414

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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
) -> Response[Destination | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: SecretRotation | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Destination | Problem]:
    """Give a destination a new signing secret

     Makes a new `whsec_` secret, answered once in `signing_secret`: store it now, it
    is never shown again. Requests are signed with both the new and the old secret
    (two signatures in `webhook-signature`) for `overlap_seconds`, so the receiver can
    switch over without refusing a call; then with the new one only. A second
    rotation within the overlap drops the oldest secret at once, so retry a rotation
    whose answer you lost with the same `Idempotency-Key`: it answers the same secret
    again instead of making a third.

    Args:
        name (str): Lower-case letters, digits, `-` and `_`; starts with a letter or digit.
            Example: billing.
        idempotency_key (str | Unset):  Example: order-1042.
        body (SecretRotation | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Destination | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    *,
    client: AuthenticatedClient,
    body: SecretRotation | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Destination | Problem | None:
    """Give a destination a new signing secret

     Makes a new `whsec_` secret, answered once in `signing_secret`: store it now, it
    is never shown again. Requests are signed with both the new and the old secret
    (two signatures in `webhook-signature`) for `overlap_seconds`, so the receiver can
    switch over without refusing a call; then with the new one only. A second
    rotation within the overlap drops the oldest secret at once, so retry a rotation
    whose answer you lost with the same `Idempotency-Key`: it answers the same secret
    again instead of making a third.

    Args:
        name (str): Lower-case letters, digits, `-` and `_`; starts with a letter or digit.
            Example: billing.
        idempotency_key (str | Unset):  Example: order-1042.
        body (SecretRotation | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Destination | Problem
    """

    return sync_detailed(
        name=name,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: SecretRotation | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Response[Destination | Problem]:
    """Give a destination a new signing secret

     Makes a new `whsec_` secret, answered once in `signing_secret`: store it now, it
    is never shown again. Requests are signed with both the new and the old secret
    (two signatures in `webhook-signature`) for `overlap_seconds`, so the receiver can
    switch over without refusing a call; then with the new one only. A second
    rotation within the overlap drops the oldest secret at once, so retry a rotation
    whose answer you lost with the same `Idempotency-Key`: it answers the same secret
    again instead of making a third.

    Args:
        name (str): Lower-case letters, digits, `-` and `_`; starts with a letter or digit.
            Example: billing.
        idempotency_key (str | Unset):  Example: order-1042.
        body (SecretRotation | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Destination | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    body: SecretRotation | Unset = UNSET,
    idempotency_key: str | Unset = UNSET,
) -> Destination | Problem | None:
    """Give a destination a new signing secret

     Makes a new `whsec_` secret, answered once in `signing_secret`: store it now, it
    is never shown again. Requests are signed with both the new and the old secret
    (two signatures in `webhook-signature`) for `overlap_seconds`, so the receiver can
    switch over without refusing a call; then with the new one only. A second
    rotation within the overlap drops the oldest secret at once, so retry a rotation
    whose answer you lost with the same `Idempotency-Key`: it answers the same secret
    again instead of making a third.

    Args:
        name (str): Lower-case letters, digits, `-` and `_`; starts with a letter or digit.
            Example: billing.
        idempotency_key (str | Unset):  Example: order-1042.
        body (SecretRotation | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Destination | Problem
    """

    return (
        await asyncio_detailed(
            name=name,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
