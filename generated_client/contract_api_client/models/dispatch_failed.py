from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dispatch_result import DispatchResult
    from ..models.field_error import FieldError


T = TypeVar("T", bound="DispatchFailed")


@_attrs_define
class DispatchFailed:
    """A problem document (type `urn:contract-api:problem:dispatch-failed`) with the report.

    Attributes:
        type_ (str): A URI reference that identifies the problem type. Example: urn:contract-api:problem:validation-
            error.
        title (str): A short, human-readable summary of the problem type. Example: Validation failed.
        status (int): The HTTP status code of this response.
        request_id (str):
        succeeded (int):
        failed (int):
        results (list[DispatchResult]):
        detail (str | Unset): A human-readable explanation specific to this occurrence.
        instance (str | Unset): The request path this problem occurred on.
        errors (list[FieldError] | Unset): For validation problems, one entry per offending field.
        dispatch_id (str | Unset): The dispatch as recorded (`POST /dispatches/{dispatch_id}/retry` delivers
            it again in the background); absent when the record could not be written.
             Example: dsp_6f1c2a9e8b7d4c3a9f0e1d2c3b4a5968.
    """

    type_: str
    title: str
    status: int
    request_id: str
    succeeded: int
    failed: int
    results: list[DispatchResult]
    detail: str | Unset = UNSET
    instance: str | Unset = UNSET
    errors: list[FieldError] | Unset = UNSET
    dispatch_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        title = self.title

        status = self.status

        request_id = self.request_id

        succeeded = self.succeeded

        failed = self.failed

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)

        detail = self.detail

        instance = self.instance

        errors: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.errors, Unset):
            errors = []
            for errors_item_data in self.errors:
                errors_item = errors_item_data.to_dict()
                errors.append(errors_item)

        dispatch_id = self.dispatch_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
                "request_id": request_id,
                "succeeded": succeeded,
                "failed": failed,
                "results": results,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail
        if instance is not UNSET:
            field_dict["instance"] = instance
        if errors is not UNSET:
            field_dict["errors"] = errors
        if dispatch_id is not UNSET:
            field_dict["dispatch_id"] = dispatch_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dispatch_result import DispatchResult  # noqa: PLC0415
        from ..models.field_error import FieldError  # noqa: PLC0415

        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        request_id = d.pop("request_id")

        succeeded = d.pop("succeeded")

        failed = d.pop("failed")

        results = []
        _results = d.pop("results")
        for results_item_data in _results:
            results_item = DispatchResult.from_dict(results_item_data)

            results.append(results_item)

        detail = d.pop("detail", UNSET)

        instance = d.pop("instance", UNSET)

        _errors = d.pop("errors", UNSET)
        errors: list[FieldError] | Unset = UNSET
        if _errors is not UNSET:
            errors = []
            for errors_item_data in _errors:
                errors_item = FieldError.from_dict(errors_item_data)

                errors.append(errors_item)

        dispatch_id = d.pop("dispatch_id", UNSET)

        dispatch_failed = cls(
            type_=type_,
            title=title,
            status=status,
            request_id=request_id,
            succeeded=succeeded,
            failed=failed,
            results=results,
            detail=detail,
            instance=instance,
            errors=errors,
            dispatch_id=dispatch_id,
        )

        dispatch_failed.additional_properties = d
        return dispatch_failed

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
