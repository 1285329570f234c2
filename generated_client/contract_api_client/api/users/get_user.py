from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.user import User
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user_id: int,
    *,
    if_none_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_none_match, Unset):
        headers["If-None-Match"] = if_none_match

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/users/{user_id}".format(
            user_id=quote(str(user_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Problem | User | None:
    if response.status_code == 200:
        response_200 = User.from_dict(response.json())

        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

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

    if response.status_code == 414:
        response_414 = Problem.from_dict(response.json())

        return response_414

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
) -> Response[Any | Problem | User]:
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
    if_none_match: str | Unset = UNSET,
) -> Response[Any | Problem | User]:
    """Get a user

     The answer carries the user's `ETag`; send it back in `If-None-Match` to get a `304`
    while the user is unchanged, or in `If-Match` on `PUT`, `PATCH` and `DELETE` to act only
    on the version you read. Another client's user is `404`.

    Args:
        user_id (int):
        if_none_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"`
            or `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem | User]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        if_none_match=if_none_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    user_id: int,
    *,
    client: AuthenticatedClient,
    if_none_match: str | Unset = UNSET,
) -> Any | Problem | User | None:
    """Get a user

     The answer carries the user's `ETag`; send it back in `If-None-Match` to get a `304`
    while the user is unchanged, or in `If-Match` on `PUT`, `PATCH` and `DELETE` to act only
    on the version you read. Another client's user is `404`.

    Args:
        user_id (int):
        if_none_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"`
            or `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem | User
    """

    return sync_detailed(
        user_id=user_id,
        client=client,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    user_id: int,
    *,
    client: AuthenticatedClient,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | Problem | User]:
    """Get a user

     The answer carries the user's `ETag`; send it back in `If-None-Match` to get a `304`
    while the user is unchanged, or in `If-Match` on `PUT`, `PATCH` and `DELETE` to act only
    on the version you read. Another client's user is `404`.

    Args:
        user_id (int):
        if_none_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"`
            or `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem | User]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        if_none_match=if_none_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    user_id: int,
    *,
    client: AuthenticatedClient,
    if_none_match: str | Unset = UNSET,
) -> Any | Problem | User | None:
    """Get a user

     The answer carries the user's `ETag`; send it back in `If-None-Match` to get a `304`
    while the user is unchanged, or in `If-Match` on `PUT`, `PATCH` and `DELETE` to act only
    on the version you read. Another client's user is `404`.

    Args:
        user_id (int):
        if_none_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"`
            or `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem | User
    """

    return (
        await asyncio_detailed(
            user_id=user_id,
            client=client,
            if_none_match=if_none_match,
        )
    ).parsed
