from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...models.process_request import ProcessRequest
from ...models.process_response import ProcessResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: ProcessRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/process_data",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Problem | ProcessResponse | None:
    if response.status_code == 200:
        response_200 = ProcessResponse.from_dict(response.json())

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
) -> Response[Problem | ProcessResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ProcessRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | ProcessResponse]:
    """Process one record

     Validates a record, stores it and returns the processed result: the `quantity` is
    doubled. Any missing, mistyped or out-of-range field is a `400` problem naming the
    field. The stored record is at the `Location` given in the answer.

    Args:
        idempotency_key (str | Unset):  Example: order-1042.
        body (ProcessRequest): One record to process. No other properties are accepted.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ProcessResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: ProcessRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | ProcessResponse | None:
    """Process one record

     Validates a record, stores it and returns the processed result: the `quantity` is
    doubled. Any missing, mistyped or out-of-range field is a `400` problem naming the
    field. The stored record is at the `Location` given in the answer.

    Args:
        idempotency_key (str | Unset):  Example: order-1042.
        body (ProcessRequest): One record to process. No other properties are accepted.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ProcessResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ProcessRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | ProcessResponse]:
    """Process one record

     Validates a record, stores it and returns the processed result: the `quantity` is
    doubled. Any missing, mistyped or out-of-range field is a `400` problem naming the
    field. The stored record is at the `Location` given in the answer.

    Args:
        idempotency_key (str | Unset):  Example: order-1042.
        body (ProcessRequest): One record to process. No other properties are accepted.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | ProcessResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ProcessRequest,
    idempotency_key: str | Unset = UNSET,
) -> Problem | ProcessResponse | None:
    """Process one record

     Validates a record, stores it and returns the processed result: the `quantity` is
    doubled. Any missing, mistyped or out-of-range field is a `400` problem naming the
    field. The stored record is at the `Location` given in the answer.

    Args:
        idempotency_key (str | Unset):  Example: order-1042.
        body (ProcessRequest): One record to process. No other properties are accepted.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | ProcessResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
