from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="DeliveryPolicyPatch")


@_attrs_define
class DeliveryPolicyPatch:
    """The delivery fields to change; those left out keep their value.

    Attributes:
        max_attempts (int | Unset): Attempts in all (the first included) before a delivery is `dead`.
        initial_backoff_seconds (float | Unset): The wait after the first failed attempt; each later one doubles, with
            jitter.
        max_backoff_seconds (float | Unset): No wait between attempts is longer than this.
        max_age_seconds (int | Unset): A delivery not delivered this long after it was queued (or retried) is `dead`,
            whatever attempts are left.
    """

    max_attempts: int | Unset = UNSET
    initial_backoff_seconds: float | Unset = UNSET
    max_backoff_seconds: float | Unset = UNSET
    max_age_seconds: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        max_attempts = self.max_attempts

        initial_backoff_seconds = self.initial_backoff_seconds

        max_backoff_seconds = self.max_backoff_seconds

        max_age_seconds = self.max_age_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if initial_backoff_seconds is not UNSET:
            field_dict["initial_backoff_seconds"] = initial_backoff_seconds
        if max_backoff_seconds is not UNSET:
            field_dict["max_backoff_seconds"] = max_backoff_seconds
        if max_age_seconds is not UNSET:
            field_dict["max_age_seconds"] = max_age_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        max_attempts = d.pop("max_attempts", UNSET)

        initial_backoff_seconds = d.pop("initial_backoff_seconds", UNSET)

        max_backoff_seconds = d.pop("max_backoff_seconds", UNSET)

        max_age_seconds = d.pop("max_age_seconds", UNSET)

        delivery_policy_patch = cls(
            max_attempts=max_attempts,
            initial_backoff_seconds=initial_backoff_seconds,
            max_backoff_seconds=max_backoff_seconds,
            max_age_seconds=max_age_seconds,
        )

        return delivery_policy_patch
