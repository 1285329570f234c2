from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.dispatch import Dispatch
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    dispatch_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/dispatches/{dispatch_id}/retry".format(
            dispatch_id=quote(str(dispatch_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Dispatch | Problem | None:
    if response.status_code == 202:
        response_202 = Dispatch.from_dict(response.json())

        return response_202

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Dispatch | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    dispatch_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Dispatch | Problem]:
    """Deliver a dispatch's failed and dead deliveries again

     Every `failed` or `dead` delivery goes back to `pending` with a fresh budget of
    attempts and age (its destination's `delivery` policy), its `webhook-id`
    unchanged; delivered ones are left alone. `409` when there is nothing to retry.
    A delivery whose destination was deleted since ends `dead` again at once.

    Args:
        dispatch_id (str):  Example: dsp_6f1c2a9e8b7d4c3a9f0e1d2c3b4a5968.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Dispatch | Problem]
    """

    kwargs = _get_kwargs(
        dispatch_id=dispatch_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    dispatch_id: str,
    *,
    client: AuthenticatedClient,
) -> Dispatch | Problem | None:
    """Deliver a dispatch's failed and dead deliveries again

     Every `failed` or `dead` delivery goes back to `pending` with a fresh budget of
    attempts and age (its destination's `delivery` policy), its `webhook-id`
    unchanged; delivered ones are left alone. `409` when there is nothing to retry.
    A delivery whose destination was deleted since ends `dead` again at once.

    Args:
        dispatch_id (str):  Example: dsp_6f1c2a9e8b7d4c3a9f0e1d2c3b4a5968.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Dispatch | Problem
    """

    return sync_detailed(
        dispatch_id=dispatch_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    dispatch_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Dispatch | Problem]:
    """Deliver a dispatch's failed and dead deliveries again

     Every `failed` or `dead` delivery goes back to `pending` with a fresh budget of
    attempts and age (its destination's `delivery` policy), its `webhook-id`
    unchanged; delivered ones are left alone. `409` when there is nothing to retry.
    A delivery whose destination was deleted since ends `dead` again at once.

    Args:
        dispatch_id (str):  Example: dsp_6f1c2a9e8b7d4c3a9f0e1d2c3b4a5968.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Dispatch | Problem]
    """

    kwargs = _get_kwargs(
        dispatch_id=dispatch_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    dispatch_id: str,
    *,
    client: AuthenticatedClient,
) -> Dispatch | Problem | None:
    """Deliver a dispatch's failed and dead deliveries again

     Every `failed` or `dead` delivery goes back to `pending` with a fresh budget of
    attempts and age (its destination's `delivery` policy), its `webhook-id`
    unchanged; delivered ones are left alone. `409` when there is nothing to retry.
    A delivery whose destination was deleted since ends `dead` again at once.

    Args:
        dispatch_id (str):  Example: dsp_6f1c2a9e8b7d4c3a9f0e1d2c3b4a5968.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Dispatch | Problem
    """

    return (
        await asyncio_detailed(
            dispatch_id=dispatch_id,
            client=client,
        )
    ).parsed
