from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="DeliveryPolicy")


@_attrs_define
class DeliveryPolicy:
    """
    Attributes:
        max_attempts (int):  Example: 18.
        initial_backoff_seconds (float):  Example: 5.
        max_backoff_seconds (float):  Example: 14400.
        max_age_seconds (int):  Example: 86400.
    """

    max_attempts: int
    initial_backoff_seconds: float
    max_backoff_seconds: float
    max_age_seconds: int

    def to_dict(self) -> dict[str, Any]:
        max_attempts = self.max_attempts

        initial_backoff_seconds = self.initial_backoff_seconds

        max_backoff_seconds = self.max_backoff_seconds

        max_age_seconds = self.max_age_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "max_attempts": max_attempts,
                "initial_backoff_seconds": initial_backoff_seconds,
                "max_backoff_seconds": max_backoff_seconds,
                "max_age_seconds": max_age_seconds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        max_attempts = d.pop("max_attempts")

        initial_backoff_seconds = d.pop("initial_backoff_seconds")

        max_backoff_seconds = d.pop("max_backoff_seconds")

        max_age_seconds = d.pop("max_age_seconds")

        delivery_policy = cls(
            max_attempts=max_attempts,
            initial_backoff_seconds=initial_backoff_seconds,
            max_backoff_seconds=max_backoff_seconds,
            max_age_seconds=max_age_seconds,
        )

        return delivery_policy
