from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.check import Check


T = TypeVar("T", bound="ReadinessChecks")


@_attrs_define
class ReadinessChecks:
    """One entry per dependency checked; `redis` only when Redis is configured.

    Attributes:
        database (Check):
        redis (Check | Unset):
    """

    database: Check
    redis: Check | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        database = self.database.to_dict()

        redis: dict[str, Any] | Unset = UNSET
        if not isinstance(self.redis, Unset):
            redis = self.redis.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "database": database,
            }
        )
        if redis is not UNSET:
            field_dict["redis"] = redis

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.check import Check  # noqa: PLC0415

        d = dict(src_dict)
        database = Check.from_dict(d.pop("database"))

        _redis = d.pop("redis", UNSET)
        redis: Check | Unset
        if isinstance(_redis, Unset):
            redis = UNSET
        else:
            redis = Check.from_dict(_redis)

        readiness_checks = cls(
            database=database,
            redis=redis,
        )

        readiness_checks.additional_properties = d
        return readiness_checks

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
