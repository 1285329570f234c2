from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="CircuitBreaker")


@_attrs_define
class CircuitBreaker:
    """
    Attributes:
        failure_threshold (int):  Example: 5.
        cooldown_seconds (float):  Example: 30.
    """

    failure_threshold: int
    cooldown_seconds: float

    def to_dict(self) -> dict[str, Any]:
        failure_threshold = self.failure_threshold

        cooldown_seconds = self.cooldown_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "failure_threshold": failure_threshold,
                "cooldown_seconds": cooldown_seconds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        failure_threshold = d.pop("failure_threshold")

        cooldown_seconds = d.pop("cooldown_seconds")

        circuit_breaker = cls(
            failure_threshold=failure_threshold,
            cooldown_seconds=cooldown_seconds,
        )

        return circuit_breaker
