from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.not_ready import NotReady
from ...models.problem import Problem
from ...models.readiness import Readiness
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/health/ready",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> NotReady | Problem | Readiness | None:
    if response.status_code == 200:
        response_200 = Readiness.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 405:
        response_405 = Problem.from_dict(response.json())

        return response_405

    if response.status_code == 414:
        response_414 = Problem.from_dict(response.json())

        return response_414

    if response.status_code == 503:
        response_503 = NotReady.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[NotReady | Problem | Readiness]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[NotReady | Problem | Readiness]:
    """Can this instance take traffic?

     Checks, each within a short deadline, that the database answers a query and, when
    `APP_REDIS_URL` is set, that Redis answers a ping. `200` when all pass; `503` with
    the failing checks otherwise, so a load balancer sends traffic elsewhere. Use it as
    the readiness probe.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[NotReady | Problem | Readiness]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> NotReady | Problem | Readiness | None:
    """Can this instance take traffic?

     Checks, each within a short deadline, that the database answers a query and, when
    `APP_REDIS_URL` is set, that Redis answers a ping. `200` when all pass; `503` with
    the failing checks otherwise, so a load balancer sends traffic elsewhere. Use it as
    the readiness probe.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        NotReady | Problem | Readiness
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[NotReady | Problem | Readiness]:
    """Can this instance take traffic?

     Checks, each within a short deadline, that the database answers a query and, when
    `APP_REDIS_URL` is set, that Redis answers a ping. `200` when all pass; `503` with
    the failing checks otherwise, so a load balancer sends traffic elsewhere. Use it as
    the readiness probe.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[NotReady | Problem | Readiness]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> NotReady | Problem | Readiness | None:
    """Can this instance take traffic?

     Checks, each within a short deadline, that the database answers a query and, when
    `APP_REDIS_URL` is set, that Redis answers a ping. `200` when all pass; `503` with
    the failing checks otherwise, so a load balancer sends traffic elsewhere. Use it as
    the readiness probe.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        NotReady | Problem | Readiness
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
