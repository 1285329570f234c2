from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.dispatch_page import DispatchPage
from ...models.dispatch_state import DispatchState
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    state: DispatchState | Unset = UNSET,
    destination: str | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_state: str | Unset = UNSET
    if not isinstance(state, Unset):
        json_state = state

    params["state"] = json_state

    params["destination"] = destination

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/dispatches",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> DispatchPage | Problem | None:
    if response.status_code == 200:
        response_200 = DispatchPage.from_dict(response.json())

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
) -> Response[DispatchPage | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    state: DispatchState | Unset = UNSET,
    destination: str | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Response[DispatchPage | Problem]:
    """List your dispatches, newest first

     Your own dispatches (admins: everyone's), synchronous and asynchronous, newest
    first, each with its deliveries (without their attempt logs).

    Args:
        state (DispatchState | Unset): * `pending`: a delivery is still queued or under way.
            * `delivered`: every delivery was delivered.
            * `failed`: every delivery ended, at least one `failed` or `dead`.
        destination (str | Unset): Lower-case letters, digits, `-` and `_`; starts with a letter
            or digit. Example: billing.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DispatchPage | Problem]
    """

    kwargs = _get_kwargs(
        state=state,
        destination=destination,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    state: DispatchState | Unset = UNSET,
    destination: str | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> DispatchPage | Problem | None:
    """List your dispatches, newest first

     Your own dispatches (admins: everyone's), synchronous and asynchronous, newest
    first, each with its deliveries (without their attempt logs).

    Args:
        state (DispatchState | Unset): * `pending`: a delivery is still queued or under way.
            * `delivered`: every delivery was delivered.
            * `failed`: every delivery ended, at least one `failed` or `dead`.
        destination (str | Unset): Lower-case letters, digits, `-` and `_`; starts with a letter
            or digit. Example: billing.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DispatchPage | Problem
    """

    return sync_detailed(
        client=client,
        state=state,
        destination=destination,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    state: DispatchState | Unset = UNSET,
    destination: str | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Response[DispatchPage | Problem]:
    """List your dispatches, newest first

     Your own dispatches (admins: everyone's), synchronous and asynchronous, newest
    first, each with its deliveries (without their attempt logs).

    Args:
        state (DispatchState | Unset): * `pending`: a delivery is still queued or under way.
            * `delivered`: every delivery was delivered.
            * `failed`: every delivery ended, at least one `failed` or `dead`.
        destination (str | Unset): Lower-case letters, digits, `-` and `_`; starts with a letter
            or digit. Example: billing.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DispatchPage | Problem]
    """

    kwargs = _get_kwargs(
        state=state,
        destination=destination,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    state: DispatchState | Unset = UNSET,
    destination: str | Unset = UNSET,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> DispatchPage | Problem | None:
    """List your dispatches, newest first

     Your own dispatches (admins: everyone's), synchronous and asynchronous, newest
    first, each with its deliveries (without their attempt logs).

    Args:
        state (DispatchState | Unset): * `pending`: a delivery is still queued or under way.
            * `delivered`: every delivery was delivered.
            * `failed`: every delivery ended, at least one `failed` or `dead`.
        destination (str | Unset): Lower-case letters, digits, `-` and `_`; starts with a letter
            or digit. Example: billing.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DispatchPage | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            state=state,
            destination=destination,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
