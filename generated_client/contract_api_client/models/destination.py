from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.circuit_breaker import CircuitBreaker
    from ..models.circuit_state import CircuitState
    from ..models.delivery_policy import DeliveryPolicy
    from ..models.retry_policy import RetryPolicy
    from ..models.signing_state import SigningState


T = TypeVar("T", bound="Destination")


@_attrs_define
class Destination:
    """
    Attributes:
        name (str):  Example: billing.
        url (str):  Example: https://billing.example.com/hooks/orders.
        timeout_seconds (float):  Example: 5.
        retry (RetryPolicy):
        circuit_breaker (CircuitBreaker):
        delivery (DeliveryPolicy):
        header_names (list[str]): The names of the destination's own header fields (lower case); never their values.
            Example: ['authorization'].
        enabled (bool):  Example: True.
        circuit (CircuitState): The breaker as the answering instance sees it (each process has its own).
        signing (SigningState): Which secrets sign requests to the destination (never the secrets).
        created_at (datetime.datetime):  Example: 2026-12-01T09:30:00Z.
        updated_at (datetime.datetime):  Example: 2026-12-01T09:30:00Z.
        signing_secret (str | Unset): The secret requests to this destination are signed with (Standard Webhooks).
            Only in the answers to creating the destination and to rotating its secret:
            store it then, it is never shown again.
             Example: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw9b5DV7mXNnQ=.
    """

    name: str
    url: str
    timeout_seconds: float
    retry: RetryPolicy
    circuit_breaker: CircuitBreaker
    delivery: DeliveryPolicy
    header_names: list[str]
    enabled: bool
    circuit: CircuitState
    signing: SigningState
    created_at: datetime.datetime
    updated_at: datetime.datetime
    signing_secret: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        url = self.url

        timeout_seconds = self.timeout_seconds

        retry = self.retry.to_dict()

        circuit_breaker = self.circuit_breaker.to_dict()

        delivery = self.delivery.to_dict()

        header_names = self.header_names

        enabled = self.enabled

        circuit = self.circuit.to_dict()

        signing = self.signing.to_dict()

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        signing_secret = self.signing_secret

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "url": url,
                "timeout_seconds": timeout_seconds,
                "retry": retry,
                "circuit_breaker": circuit_breaker,
                "delivery": delivery,
                "header_names": header_names,
                "enabled": enabled,
                "circuit": circuit,
                "signing": signing,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
        if signing_secret is not UNSET:
            field_dict["signing_secret"] = signing_secret

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.circuit_breaker import CircuitBreaker  # noqa: PLC0415
        from ..models.circuit_state import CircuitState  # noqa: PLC0415
        from ..models.delivery_policy import DeliveryPolicy  # noqa: PLC0415
        from ..models.retry_policy import RetryPolicy  # noqa: PLC0415
        from ..models.signing_state import SigningState  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        url = d.pop("url")

        timeout_seconds = d.pop("timeout_seconds")

        retry = RetryPolicy.from_dict(d.pop("retry"))

        circuit_breaker = CircuitBreaker.from_dict(d.pop("circuit_breaker"))

        delivery = DeliveryPolicy.from_dict(d.pop("delivery"))

        header_names = cast(list[str], d.pop("header_names"))

        enabled = d.pop("enabled")

        circuit = CircuitState.from_dict(d.pop("circuit"))

        signing = SigningState.from_dict(d.pop("signing"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        signing_secret = d.pop("signing_secret", UNSET)

        destination = cls(
            name=name,
            url=url,
            timeout_seconds=timeout_seconds,
            retry=retry,
            circuit_breaker=circuit_breaker,
            delivery=delivery,
            header_names=header_names,
            enabled=enabled,
            circuit=circuit,
            signing=signing,
            created_at=created_at,
            updated_at=updated_at,
            signing_secret=signing_secret,
        )

        return destination
