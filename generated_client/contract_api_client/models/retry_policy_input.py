from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="RetryPolicyInput")


@_attrs_define
class RetryPolicyInput:
    """Retries on a refused connection or one closed before any answer, `429`, `502`,
    `503` and `504`, with exponential backoff and jitter (`Retry-After` is honoured),
    as long as the deadline allows. A field left out takes its default.

        Attributes:
            max_attempts (int | Unset): Attempts in all, the first included (1 means no retry). Default: 3.
            initial_backoff_seconds (float | Unset): The first wait; each later one doubles, plus up to as much jitter.
                Default: 0.1.
            max_backoff_seconds (float | Unset): No wait is longer than this, even the first. Default: 2.0.
    """

    max_attempts: int | Unset = 3
    initial_backoff_seconds: float | Unset = 0.1
    max_backoff_seconds: float | Unset = 2.0

    def to_dict(self) -> dict[str, Any]:
        max_attempts = self.max_attempts

        initial_backoff_seconds = self.initial_backoff_seconds

        max_backoff_seconds = self.max_backoff_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if max_attempts is not UNSET:
            field_dict["max_attempts"] = max_attempts
        if initial_backoff_seconds is not UNSET:
            field_dict["initial_backoff_seconds"] = initial_backoff_seconds
        if max_backoff_seconds is not UNSET:
            field_dict["max_backoff_seconds"] = max_backoff_seconds

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        max_attempts = d.pop("max_attempts", UNSET)

        initial_backoff_seconds = d.pop("initial_backoff_seconds", UNSET)

        max_backoff_seconds = d.pop("max_backoff_seconds", UNSET)

        retry_policy_input = cls(
            max_attempts=max_attempts,
            initial_backoff_seconds=initial_backoff_seconds,
            max_backoff_seconds=max_backoff_seconds,
        )

        return retry_policy_input
