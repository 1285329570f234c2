from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.circuit_breaker_patch import CircuitBreakerPatch
    from ..models.delivery_policy_patch import DeliveryPolicyPatch
    from ..models.downstream_header_change import DownstreamHeaderChange
    from ..models.retry_policy_patch import RetryPolicyPatch


T = TypeVar("T", bound="DestinationPatch")


@_attrs_define
class DestinationPatch:
    """
    Attributes:
        url (str | Unset): Where the payload is POSTed: `http` or `https`, no `user:password@`, no fragment.
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
        timeout_seconds (float | Unset): The deadline for this destination, every attempt and backoff included. Example:
            5.
        retry (RetryPolicyPatch | Unset): The retry fields to change; those left out keep their value.
        circuit_breaker (CircuitBreakerPatch | Unset): The breaker fields to change; those left out keep their value.
        delivery (DeliveryPolicyPatch | Unset): The delivery fields to change; those left out keep their value.
        headers (list[DownstreamHeaderChange] | Unset): The header fields to set, or to remove (`value: null`); those
            not named keep
            their value. A destination holds at most 20 (`409` beyond).
             Example: [{'name': 'Authorization', 'value': 'Bearer 7d8e4f7a9b3c1d2e'}, {'name': 'X-Old-Token', 'value':
            None}].
        enabled (bool | Unset): Disabled destinations are kept but never sent to.
    """

    url: str | Unset = UNSET
    timeout_seconds: float | Unset = UNSET
    retry: RetryPolicyPatch | Unset = UNSET
    circuit_breaker: CircuitBreakerPatch | Unset = UNSET
    delivery: DeliveryPolicyPatch | Unset = UNSET
    headers: list[DownstreamHeaderChange] | Unset = UNSET
    enabled: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
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
            for componentsschemas_downstream_headers_patch_item_data in self.headers:
                componentsschemas_downstream_headers_patch_item = (
                    componentsschemas_downstream_headers_patch_item_data.to_dict()
                )
                headers.append(componentsschemas_downstream_headers_patch_item)

        enabled = self.enabled

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if url is not UNSET:
            field_dict["url"] = url
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
        from ..models.circuit_breaker_patch import CircuitBreakerPatch  # noqa: PLC0415
        from ..models.delivery_policy_patch import DeliveryPolicyPatch  # noqa: PLC0415
        from ..models.downstream_header_change import DownstreamHeaderChange  # noqa: PLC0415
        from ..models.retry_policy_patch import RetryPolicyPatch  # noqa: PLC0415

        d = dict(src_dict)
        url = d.pop("url", UNSET)

        timeout_seconds = d.pop("timeout_seconds", UNSET)

        _retry = d.pop("retry", UNSET)
        retry: RetryPolicyPatch | Unset
        if isinstance(_retry, Unset):
            retry = UNSET
        else:
            retry = RetryPolicyPatch.from_dict(_retry)

        _circuit_breaker = d.pop("circuit_breaker", UNSET)
        circuit_breaker: CircuitBreakerPatch | Unset
        if isinstance(_circuit_breaker, Unset):
            circuit_breaker = UNSET
        else:
            circuit_breaker = CircuitBreakerPatch.from_dict(_circuit_breaker)

        _delivery = d.pop("delivery", UNSET)
        delivery: DeliveryPolicyPatch | Unset
        if isinstance(_delivery, Unset):
            delivery = UNSET
        else:
            delivery = DeliveryPolicyPatch.from_dict(_delivery)

        _headers = d.pop("headers", UNSET)
        headers: list[DownstreamHeaderChange] | Unset = UNSET
        if _headers is not UNSET:
            headers = []
            for componentsschemas_downstream_headers_patch_item_data in _headers:
                componentsschemas_downstream_headers_patch_item = DownstreamHeaderChange.from_dict(
                    componentsschemas_downstream_headers_patch_item_data
                )

                headers.append(componentsschemas_downstream_headers_patch_item)

        enabled = d.pop("enabled", UNSET)

        destination_patch = cls(
            url=url,
            timeout_seconds=timeout_seconds,
            retry=retry,
            circuit_breaker=circuit_breaker,
            delivery=delivery,
            headers=headers,
            enabled=enabled,
        )

        return destination_patch
