from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.dispatch import Dispatch
from ...models.dispatch_failed import DispatchFailed
from ...models.dispatch_report import DispatchReport
from ...models.dispatch_request import DispatchRequest
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: DispatchRequest,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(prefer, Unset):
        headers["Prefer"] = prefer

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/dispatch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Dispatch | DispatchFailed | DispatchReport | Problem | None:
    if response.status_code == 200:
        response_200 = DispatchReport.from_dict(response.json())

        return response_200

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

    if response.status_code == 502:
        response_502 = DispatchFailed.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Dispatch | DispatchFailed | DispatchReport | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: DispatchRequest,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Response[Dispatch | DispatchFailed | DispatchReport | Problem]:
    """Send one payload to several destinations at once

     `payload` is POSTed as JSON to every chosen destination (every enabled one when
    `destinations` is omitted) at the same time, so the answer takes as long as the
    slowest destination, never the sum. Each destination has its own deadline
    (`timeout_seconds`, capped by the request's), its retry policy and its circuit
    breaker; the answer reports each one, success or failure.

    * `200`: at least one destination succeeded; `summary` is `complete` or `partial`.
    * `502`: every destination failed; the problem document carries the same report.

    Downstream requests carry this request's `X-Request-ID` and an `Idempotency-Key`:
    yours prefixed with your client id, or one made up per dispatch, so the gateway's
    own retries are safe for downstreams that honour it.

    They are signed as [Standard Webhooks](https://www.standardwebhooks.com/) says:
    `webhook-id` (the result's `webhook_id`, one per destination and dispatch, the
    same on every retry, the gateway's and yours with the same `Idempotency-Key`, so
    a receiver can drop duplicates), `webhook-timestamp` (Unix
    seconds of the attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` made with
    the destination's secret; while a rotated secret is still honoured, one signature
    per secret, space-separated). Verify them with any Standard Webhooks library, e.g.
    Python's `standardwebhooks.Webhook(secret).verify(body, headers)`.

    A failed result's `error.detail` and `body` are the destination's own words only
    for admins; other clients read a fixed sentence per error type and a null `body`
    (see the API description, Gateway).

    With `Prefer: respond-async` the call does not wait for any destination: the
    dispatch and one `pending` delivery per destination are stored before the `202`
    (once you have it, a crash of the service loses nothing), and workers deliver
    them in the background by each destination's `delivery` policy. Follow
    `Location` to see how they fare. With an `Idempotency-Key`, a retry of the
    same request answers the first `202` again (`Idempotent-Replayed: true`) and
    stores nothing more.

    Args:
        idempotency_key (str | Unset):  Example: order-1042.
        prefer (str | Unset):  Example: respond-async.
        body (DispatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Dispatch | DispatchFailed | DispatchReport | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        prefer=prefer,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: DispatchRequest,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Dispatch | DispatchFailed | DispatchReport | Problem | None:
    """Send one payload to several destinations at once

     `payload` is POSTed as JSON to every chosen destination (every enabled one when
    `destinations` is omitted) at the same time, so the answer takes as long as the
    slowest destination, never the sum. Each destination has its own deadline
    (`timeout_seconds`, capped by the request's), its retry policy and its circuit
    breaker; the answer reports each one, success or failure.

    * `200`: at least one destination succeeded; `summary` is `complete` or `partial`.
    * `502`: every destination failed; the problem document carries the same report.

    Downstream requests carry this request's `X-Request-ID` and an `Idempotency-Key`:
    yours prefixed with your client id, or one made up per dispatch, so the gateway's
    own retries are safe for downstreams that honour it.

    They are signed as [Standard Webhooks](https://www.standardwebhooks.com/) says:
    `webhook-id` (the result's `webhook_id`, one per destination and dispatch, the
    same on every retry, the gateway's and yours with the same `Idempotency-Key`, so
    a receiver can drop duplicates), `webhook-timestamp` (Unix
    seconds of the attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` made with
    the destination's secret; while a rotated secret is still honoured, one signature
    per secret, space-separated). Verify them with any Standard Webhooks library, e.g.
    Python's `standardwebhooks.Webhook(secret).verify(body, headers)`.

    A failed result's `error.detail` and `body` are the destination's own words only
    for admins; other clients read a fixed sentence per error type and a null `body`
    (see the API description, Gateway).

    With `Prefer: respond-async` the call does not wait for any destination: the
    dispatch and one `pending` delivery per destination are stored before the `202`
    (once you have it, a crash of the service loses nothing), and workers deliver
    them in the background by each destination's `delivery` policy. Follow
    `Location` to see how they fare. With an `Idempotency-Key`, a retry of the
    same request answers the first `202` again (`Idempotent-Replayed: true`) and
    stores nothing more.

    Args:
        idempotency_key (str | Unset):  Example: order-1042.
        prefer (str | Unset):  Example: respond-async.
        body (DispatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Dispatch | DispatchFailed | DispatchReport | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        prefer=prefer,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: DispatchRequest,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Response[Dispatch | DispatchFailed | DispatchReport | Problem]:
    """Send one payload to several destinations at once

     `payload` is POSTed as JSON to every chosen destination (every enabled one when
    `destinations` is omitted) at the same time, so the answer takes as long as the
    slowest destination, never the sum. Each destination has its own deadline
    (`timeout_seconds`, capped by the request's), its retry policy and its circuit
    breaker; the answer reports each one, success or failure.

    * `200`: at least one destination succeeded; `summary` is `complete` or `partial`.
    * `502`: every destination failed; the problem document carries the same report.

    Downstream requests carry this request's `X-Request-ID` and an `Idempotency-Key`:
    yours prefixed with your client id, or one made up per dispatch, so the gateway's
    own retries are safe for downstreams that honour it.

    They are signed as [Standard Webhooks](https://www.standardwebhooks.com/) says:
    `webhook-id` (the result's `webhook_id`, one per destination and dispatch, the
    same on every retry, the gateway's and yours with the same `Idempotency-Key`, so
    a receiver can drop duplicates), `webhook-timestamp` (Unix
    seconds of the attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` made with
    the destination's secret; while a rotated secret is still honoured, one signature
    per secret, space-separated). Verify them with any Standard Webhooks library, e.g.
    Python's `standardwebhooks.Webhook(secret).verify(body, headers)`.

    A failed result's `error.detail` and `body` are the destination's own words only
    for admins; other clients read a fixed sentence per error type and a null `body`
    (see the API description, Gateway).

    With `Prefer: respond-async` the call does not wait for any destination: the
    dispatch and one `pending` delivery per destination are stored before the `202`
    (once you have it, a crash of the service loses nothing), and workers deliver
    them in the background by each destination's `delivery` policy. Follow
    `Location` to see how they fare. With an `Idempotency-Key`, a retry of the
    same request answers the first `202` again (`Idempotent-Replayed: true`) and
    stores nothing more.

    Args:
        idempotency_key (str | Unset):  Example: order-1042.
        prefer (str | Unset):  Example: respond-async.
        body (DispatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Dispatch | DispatchFailed | DispatchReport | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        prefer=prefer,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: DispatchRequest,
    idempotency_key: str | Unset = UNSET,
    prefer: str | Unset = UNSET,
) -> Dispatch | DispatchFailed | DispatchReport | Problem | None:
    """Send one payload to several destinations at once

     `payload` is POSTed as JSON to every chosen destination (every enabled one when
    `destinations` is omitted) at the same time, so the answer takes as long as the
    slowest destination, never the sum. Each destination has its own deadline
    (`timeout_seconds`, capped by the request's), its retry policy and its circuit
    breaker; the answer reports each one, success or failure.

    * `200`: at least one destination succeeded; `summary` is `complete` or `partial`.
    * `502`: every destination failed; the problem document carries the same report.

    Downstream requests carry this request's `X-Request-ID` and an `Idempotency-Key`:
    yours prefixed with your client id, or one made up per dispatch, so the gateway's
    own retries are safe for downstreams that honour it.

    They are signed as [Standard Webhooks](https://www.standardwebhooks.com/) says:
    `webhook-id` (the result's `webhook_id`, one per destination and dispatch, the
    same on every retry, the gateway's and yours with the same `Idempotency-Key`, so
    a receiver can drop duplicates), `webhook-timestamp` (Unix
    seconds of the attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256>` made with
    the destination's secret; while a rotated secret is still honoured, one signature
    per secret, space-separated). Verify them with any Standard Webhooks library, e.g.
    Python's `standardwebhooks.Webhook(secret).verify(body, headers)`.

    A failed result's `error.detail` and `body` are the destination's own words only
    for admins; other clients read a fixed sentence per error type and a null `body`
    (see the API description, Gateway).

    With `Prefer: respond-async` the call does not wait for any destination: the
    dispatch and one `pending` delivery per destination are stored before the `202`
    (once you have it, a crash of the service loses nothing), and workers deliver
    them in the background by each destination's `delivery` policy. Follow
    `Location` to see how they fare. With an `Idempotency-Key`, a retry of the
    same request answers the first `202` again (`Idempotent-Replayed: true`) and
    stores nothing more.

    Args:
        idempotency_key (str | Unset):  Example: order-1042.
        prefer (str | Unset):  Example: respond-async.
        body (DispatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Dispatch | DispatchFailed | DispatchReport | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            prefer=prefer,
        )
    ).parsed
