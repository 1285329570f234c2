from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CircuitBreakerPatch")


@_attrs_define
class CircuitBreakerPatch:
    """The breaker fields to change; those left out keep their value.

    Attributes:
        failure_threshold (int | Unset): Consecutive failures that open the breaker.
        cooldown_seconds (float | Unset): How long an open breaker fails calls at once before one probe.
    """

    failure_threshold: int | Unset = UNSET
    cooldown_seconds: float | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        failure_threshold = self.failure_threshold

        cooldown_seconds = self.cooldown_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if failure_threshold is not UNSET:
            field_dict["failure_threshold"] = failure_threshold
        if cooldown_seconds is not UNSET:
            field_dict["cooldown_seconds"] = cooldown_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        failure_threshold = d.pop("failure_threshold", UNSET)

        cooldown_seconds = d.pop("cooldown_seconds", UNSET)

        circuit_breaker_patch = cls(
            failure_threshold=failure_threshold,
            cooldown_seconds=cooldown_seconds,
        )

        return circuit_breaker_patch
