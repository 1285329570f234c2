from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.list_users_sort import ListUsersSort
from ...models.problem import Problem
from ...models.user_page import UserPage
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    name_contains: str | Unset = UNSET,
    email: str | Unset = UNSET,
    min_age: int | Unset = UNSET,
    max_age: int | Unset = UNSET,
    sort: ListUsersSort | Unset = "created_at",
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["name_contains"] = name_contains

    params["email"] = email

    params["min_age"] = min_age

    params["max_age"] = max_age

    json_sort: str | Unset = UNSET
    if not isinstance(sort, Unset):
        json_sort = sort

    params["sort"] = json_sort

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/users",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | UserPage | None:
    if response.status_code == 200:
        response_200 = UserPage.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | UserPage]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    name_contains: str | Unset = UNSET,
    email: str | Unset = UNSET,
    min_age: int | Unset = UNSET,
    max_age: int | Unset = UNSET,
    sort: ListUsersSort | Unset = "created_at",
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Response[Problem | UserPage]:
    """List users

     Filters combine with AND. Sorted by `sort` (a leading `-` means descending), ties
    broken by id. Page with `limit` and the `next_cursor` of the previous page.

    Args:
        name_contains (str | Unset):
        email (str | Unset):
        min_age (int | Unset):
        max_age (int | Unset):
        sort (ListUsersSort | Unset):  Default: 'created_at'.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | UserPage]
    """

    kwargs = _get_kwargs(
        name_contains=name_contains,
        email=email,
        min_age=min_age,
        max_age=max_age,
        sort=sort,
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
    name_contains: str | Unset = UNSET,
    email: str | Unset = UNSET,
    min_age: int | Unset = UNSET,
    max_age: int | Unset = UNSET,
    sort: ListUsersSort | Unset = "created_at",
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Problem | UserPage | None:
    """List users

     Filters combine with AND. Sorted by `sort` (a leading `-` means descending), ties
    broken by id. Page with `limit` and the `next_cursor` of the previous page.

    Args:
        name_contains (str | Unset):
        email (str | Unset):
        min_age (int | Unset):
        max_age (int | Unset):
        sort (ListUsersSort | Unset):  Default: 'created_at'.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | UserPage
    """

    return sync_detailed(
        client=client,
        name_contains=name_contains,
        email=email,
        min_age=min_age,
        max_age=max_age,
        sort=sort,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    name_contains: str | Unset = UNSET,
    email: str | Unset = UNSET,
    min_age: int | Unset = UNSET,
    max_age: int | Unset = UNSET,
    sort: ListUsersSort | Unset = "created_at",
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Response[Problem | UserPage]:
    """List users

     Filters combine with AND. Sorted by `sort` (a leading `-` means descending), ties
    broken by id. Page with `limit` and the `next_cursor` of the previous page.

    Args:
        name_contains (str | Unset):
        email (str | Unset):
        min_age (int | Unset):
        max_age (int | Unset):
        sort (ListUsersSort | Unset):  Default: 'created_at'.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | UserPage]
    """

    kwargs = _get_kwargs(
        name_contains=name_contains,
        email=email,
        min_age=min_age,
        max_age=max_age,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    name_contains: str | Unset = UNSET,
    email: str | Unset = UNSET,
    min_age: int | Unset = UNSET,
    max_age: int | Unset = UNSET,
    sort: ListUsersSort | Unset = "created_at",
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
) -> Problem | UserPage | None:
    """List users

     Filters combine with AND. Sorted by `sort` (a leading `-` means descending), ties
    broken by id. Page with `limit` and the `next_cursor` of the previous page.

    Args:
        name_contains (str | Unset):
        email (str | Unset):
        min_age (int | Unset):
        max_age (int | Unset):
        sort (ListUsersSort | Unset):  Default: 'created_at'.
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | UserPage
    """

    return (
        await asyncio_detailed(
            client=client,
            name_contains=name_contains,
            email=email,
            min_age=min_age,
            max_age=max_age,
            sort=sort,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
