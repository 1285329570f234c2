from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.user import User
from ...models.user_input import UserInput
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user_id: int,
    *,
    body: UserInput,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/users/{user_id}".format(
            user_id=quote(str(user_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | User | None:
    if response.status_code == 200:
        response_200 = User.from_dict(response.json())

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

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | User]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    user_id: int,
    *,
    client: AuthenticatedClient,
    body: UserInput,
    if_match: str | Unset = UNSET,
) -> Response[Problem | User]:
    """Replace a user

     Every writable field is replaced; an omitted `age` becomes null.

    Args:
        user_id (int):
        if_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"` or
            `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".
        body (UserInput): A user as a client writes it. Server-assigned fields are not accepted.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | User]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        body=body,
        if_match=if_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    user_id: int,
    *,
    client: AuthenticatedClient,
    body: UserInput,
    if_match: str | Unset = UNSET,
) -> Problem | User | None:
    """Replace a user

     Every writable field is replaced; an omitted `age` becomes null.

    Args:
        user_id (int):
        if_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"` or
            `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".
        body (UserInput): A user as a client writes it. Server-assigned fields are not accepted.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | User
    """

    return sync_detailed(
        user_id=user_id,
        client=client,
        body=body,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    user_id: int,
    *,
    client: AuthenticatedClient,
    body: UserInput,
    if_match: str | Unset = UNSET,
) -> Response[Problem | User]:
    """Replace a user

     Every writable field is replaced; an omitted `age` becomes null.

    Args:
        user_id (int):
        if_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"` or
            `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".
        body (UserInput): A user as a client writes it. Server-assigned fields are not accepted.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | User]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        body=body,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    user_id: int,
    *,
    client: AuthenticatedClient,
    body: UserInput,
    if_match: str | Unset = UNSET,
) -> Problem | User | None:
    """Replace a user

     Every writable field is replaced; an omitted `age` becomes null.

    Args:
        user_id (int):
        if_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"` or
            `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".
        body (UserInput): A user as a client writes it. Server-assigned fields are not accepted.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | User
    """

    return (
        await asyncio_detailed(
            user_id=user_id,
            client=client,
            body=body,
            if_match=if_match,
        )
    ).parsed
