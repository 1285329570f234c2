from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.destination import Destination
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    name: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/destinations/{name}".format(
            name=quote(str(name), safe=""),
        ),
    }

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
) -> Response[Destination | Problem]:
    """Get one destination, with its circuit breaker's state

     `circuit.state` says whether the answering instance sends to it (`closed`), has
    stopped after repeated failures (`open`, for `retry_after_seconds` more), or lets one
    probe through (`half_open`). Each instance keeps its own breaker.

    Args:
        name (str): Lower-case letters, digits, `-` and `_`; starts with a letter or digit.
            Example: billing.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Destination | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    name: str,
    *,
    client: AuthenticatedClient,
) -> Destination | Problem | None:
    """Get one destination, with its circuit breaker's state

     `circuit.state` says whether the answering instance sends to it (`closed`), has
    stopped after repeated failures (`open`, for `retry_after_seconds` more), or lets one
    probe through (`half_open`). Each instance keeps its own breaker.

    Args:
        name (str): Lower-case letters, digits, `-` and `_`; starts with a letter or digit.
            Example: billing.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Destination | Problem
    """

    return sync_detailed(
        name=name,
        client=client,
    ).parsed


async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
) -> Response[Destination | Problem]:
    """Get one destination, with its circuit breaker's state

     `circuit.state` says whether the answering instance sends to it (`closed`), has
    stopped after repeated failures (`open`, for `retry_after_seconds` more), or lets one
    probe through (`half_open`). Each instance keeps its own breaker.

    Args:
        name (str): Lower-case letters, digits, `-` and `_`; starts with a letter or digit.
            Example: billing.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Destination | Problem]
    """

    kwargs = _get_kwargs(
        name=name,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
) -> Destination | Problem | None:
    """Get one destination, with its circuit breaker's state

     `circuit.state` says whether the answering instance sends to it (`closed`), has
    stopped after repeated failures (`open`, for `retry_after_seconds` more), or lets one
    probe through (`half_open`). Each instance keeps its own breaker.

    Args:
        name (str): Lower-case letters, digits, `-` and `_`; starts with a letter or digit.
            Example: billing.

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
        )
    ).parsed
