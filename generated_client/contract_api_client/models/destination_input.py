from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.circuit_breaker_input import CircuitBreakerInput
    from ..models.delivery_policy_input import DeliveryPolicyInput
    from ..models.downstream_header import DownstreamHeader
    from ..models.retry_policy_input import RetryPolicyInput


T = TypeVar("T", bound="DestinationInput")


@_attrs_define
class DestinationInput:
    """
    Attributes:
        name (str): Lower-case letters, digits, `-` and `_`; starts with a letter or digit. Example: billing.
        url (str): Where the payload is POSTed: `http` or `https`, no `user:password@`, no fragment.
            Redirects from it are not followed. It is stored, answered and dialled in its
            canonical form, as browsers read it: the scheme and host in lower case, a trailing
            dot on the host dropped, a default port and `..` segments gone
            (`HTTP://Billing.Example.:80/a/../hooks` is `http://billing.example/hooks`).
            IPv4 addresses are written dotted-decimal: the legacy spellings browsers also read
            (`2130706433`, `127.1`, `0x7f.0.0.1`) are refused.

            The pattern is the whole rule: a host name of labels of at most 63 letters, digits,
            `_` or `-` (the last one starting with a letter, at most 253 characters in all, a
            trailing dot aside: the lookahead after `://` holds that length), an
            IPv4 address or a bracketed IPv6 address; a port from 1 to 65535; a path and query
            of URL characters. On a service with `APP_DISPATCH_ALLOWED_HOSTS` set, a host not
            on that list is `400` too. A refusal says in words what is wrong with the URL.
             Example: https://billing.example.com/hooks/orders.
        timeout_seconds (float | Unset): The deadline for this destination, every attempt and backoff included. Default:
            5.0. Example: 5.
        retry (RetryPolicyInput | Unset): Retries on a refused connection or one closed before any answer, `429`, `502`,
            `503` and `504`, with exponential backoff and jitter (`Retry-After` is honoured),
            as long as the deadline allows. A field left out takes its default.
        circuit_breaker (CircuitBreakerInput | Unset): After `failure_threshold` consecutive failures (no connection,
            timeout, `5xx`) the
            breaker opens: calls fail at once with `circuit_open`, without touching the
            network, for `cooldown_seconds`; then one probe call decides whether it closes.
            A field left out takes its default.
        delivery (DeliveryPolicyInput | Unset): How asynchronous deliveries (`Prefer: respond-async`) to this
            destination are
            retried: every failure but `410 Gone` (which ends it at once) is tried again after
            `initial_backoff_seconds`, doubling up to `max_backoff_seconds`, each wait between
            half and all of that (jitter) and never shorter than the destination's
            `Retry-After`. Each attempt has the destination's `timeout_seconds`. A field left
            out takes its default: 18 attempts from 5 s up to 4 h apart, for at most a day.
        headers (list[DownstreamHeader] | Unset): Header fields sent with every request to this destination (an
            `Authorization`
            value, say). Write-only: no answer or log line ever shows a value, only the names
            (`header_names`). A name given twice keeps the last value.
             Example: [{'name': 'Authorization', 'value': 'Bearer 2b6f0cc904d137be'}].
        enabled (bool | Unset): Disabled destinations are kept but never sent to. Default: True.
    """

    name: str
    url: str
    timeout_seconds: float | Unset = 5.0
    retry: RetryPolicyInput | Unset = UNSET
    circuit_breaker: CircuitBreakerInput | Unset = UNSET
    delivery: DeliveryPolicyInput | Unset = UNSET
    headers: list[DownstreamHeader] | Unset = UNSET
    enabled: bool | Unset = True

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        url = self.url

        timeout_seconds = self.timeout_seconds

        retry: dict[str, Any] | Unset = UNSET
        if not isinstance(self.retry, Unset):
            retry = self.retry.to_dict()

        circuit_breaker: dict[str, Any] | Unset = UNSET
        if not isinstance(self.circuit_breaker, Unset):
            circuit_breaker = self.circuit_breaker.to_dict()

        delivery: dict[str, Any] | Unset = UNSET
        if not isinstance(self.delivery, Unset):
            delivery = self.delivery.to_dict()

        headers: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.headers, Unset):
            headers = []
            for componentsschemas_downstream_headers_item_data in self.headers:
                componentsschemas_downstream_headers_item = componentsschemas_downstream_headers_item_data.to_dict()
                headers.append(componentsschemas_downstream_headers_item)

        enabled = self.enabled

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "url": url,
            }
        )
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds
        if retry is not UNSET:
            field_dict["retry"] = retry
        if circuit_breaker is not UNSET:
            field_dict["circuit_breaker"] = circuit_breaker
        if delivery is not UNSET:
            field_dict["delivery"] = delivery
        if headers is not UNSET:
            field_dict["headers"] = headers
        if enabled is not UNSET:
            field_dict["enabled"] = enabled

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.circuit_breaker_input import CircuitBreakerInput  # noqa: PLC0415
        from ..models.delivery_policy_input import DeliveryPolicyInput  # noqa: PLC0415
        from ..models.downstream_header import DownstreamHeader  # noqa: PLC0415
        from ..models.retry_policy_input import RetryPolicyInput  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        url = d.pop("url")

        timeout_seconds = d.pop("timeout_seconds", UNSET)

        _retry = d.pop("retry", UNSET)
        retry: RetryPolicyInput | Unset
        if isinstance(_retry, Unset):
            retry = UNSET
        else:
            retry = RetryPolicyInput.from_dict(_retry)

        _circuit_breaker = d.pop("circuit_breaker", UNSET)
        circuit_breaker: CircuitBreakerInput | Unset
        if isinstance(_circuit_breaker, Unset):
            circuit_breaker = UNSET
        else:
            circuit_breaker = CircuitBreakerInput.from_dict(_circuit_breaker)

        _delivery = d.pop("delivery", UNSET)
        delivery: DeliveryPolicyInput | Unset
        if isinstance(_delivery, Unset):
            delivery = UNSET
        else:
            delivery = DeliveryPolicyInput.from_dict(_delivery)

        _headers = d.pop("headers", UNSET)
        headers: list[DownstreamHeader] | Unset = UNSET
        if _headers is not UNSET:
            headers = []
            for componentsschemas_downstream_headers_item_data in _headers:
                componentsschemas_downstream_headers_item = DownstreamHeader.from_dict(
                    componentsschemas_downstream_headers_item_data
                )

                headers.append(componentsschemas_downstream_headers_item)

        enabled = d.pop("enabled", UNSET)

        destination_input = cls(
            name=name,
            url=url,
            timeout_seconds=timeout_seconds,
            retry=retry,
            circuit_breaker=circuit_breaker,
            delivery=delivery,
            headers=headers,
            enabled=enabled,
        )

        return destination_input
