from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    user_id: int,
    *,
    if_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_match, Unset):
        headers["If-Match"] = if_match

    _kwargs: dict[str, Any] = {
        "method": "delete",
        "url": "/users/{user_id}".format(
            user_id=quote(str(user_id), safe=""),
        ),
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Any | Problem | None:
    if response.status_code == 204:
        response_204 = cast(Any, None)
        return response_204

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

    if response.status_code == 412:
        response_412 = Problem.from_dict(response.json())

        return response_412

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Any | Problem]:
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
    if_match: str | Unset = UNSET,
) -> Response[Any | Problem]:
    """Delete a user

     With `If-Match`, only if the user is still the version you read (`412` otherwise).
    Deleting is final: the id is not reused, and a second `DELETE` is `404`.

    Args:
        user_id (int):
        if_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"` or
            `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
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
    if_match: str | Unset = UNSET,
) -> Any | Problem | None:
    """Delete a user

     With `If-Match`, only if the user is still the version you read (`412` otherwise).
    Deleting is final: the id is not reused, and a second `DELETE` is `404`.

    Args:
        user_id (int):
        if_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"` or
            `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return sync_detailed(
        user_id=user_id,
        client=client,
        if_match=if_match,
    ).parsed


async def asyncio_detailed(
    user_id: int,
    *,
    client: AuthenticatedClient,
    if_match: str | Unset = UNSET,
) -> Response[Any | Problem]:
    """Delete a user

     With `If-Match`, only if the user is still the version you read (`412` otherwise).
    Deleting is final: the id is not reused, and a second `DELETE` is `404`.

    Args:
        user_id (int):
        if_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"` or
            `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | Problem]
    """

    kwargs = _get_kwargs(
        user_id=user_id,
        if_match=if_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    user_id: int,
    *,
    client: AuthenticatedClient,
    if_match: str | Unset = UNSET,
) -> Any | Problem | None:
    """Delete a user

     With `If-Match`, only if the user is still the version you read (`412` otherwise).
    Deleting is final: the id is not reused, and a second `DELETE` is `404`.

    Args:
        user_id (int):
        if_match (str | Unset): `*`, or a comma-separated list of entity tags such as `"3"` or
            `W/"3"` (RFC 9110):
            spaces or tabs around the commas, and empty list elements (`"3", , "4"`), are
            accepted. A tag that is not the resource's current `ETag` is `412`.
             Example: "1".

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | Problem
    """

    return (
        await asyncio_detailed(
            user_id=user_id,
            client=client,
            if_match=if_match,
        )
    ).parsed
