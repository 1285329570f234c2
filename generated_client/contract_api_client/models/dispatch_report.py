from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.dispatch_report_summary import DispatchReportSummary, check_dispatch_report_summary
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.dispatch_result import DispatchResult


T = TypeVar("T", bound="DispatchReport")


@_attrs_define
class DispatchReport:
    """
    Attributes:
        request_id (str):
        summary (DispatchReportSummary):
        succeeded (int):
        failed (int):
        results (list[DispatchResult]):
        dispatch_id (str | Unset): The dispatch as recorded (`GET /dispatches/{dispatch_id}`); absent when the
            record could not be written (the report stands all the same).
             Example: dsp_6f1c2a9e8b7d4c3a9f0e1d2c3b4a5968.
    """

    request_id: str
    summary: DispatchReportSummary
    succeeded: int
    failed: int
    results: list[DispatchResult]
    dispatch_id: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        request_id = self.request_id

        summary: str = self.summary

        succeeded = self.succeeded

        failed = self.failed

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)

        dispatch_id = self.dispatch_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "request_id": request_id,
                "summary": summary,
                "succeeded": succeeded,
                "failed": failed,
                "results": results,
            }
        )
        if dispatch_id is not UNSET:
            field_dict["dispatch_id"] = dispatch_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.dispatch_result import DispatchResult  # noqa: PLC0415

        d = dict(src_dict)
        request_id = d.pop("request_id")

        summary = check_dispatch_report_summary(d.pop("summary"))

        succeeded = d.pop("succeeded")

        failed = d.pop("failed")

        results = []
        _results = d.pop("results")
        for results_item_data in _results:
            results_item = DispatchResult.from_dict(results_item_data)

            results.append(results_item)

        dispatch_id = d.pop("dispatch_id", UNSET)

        dispatch_report = cls(
            request_id=request_id,
            summary=summary,
            succeeded=succeeded,
            failed=failed,
            results=results,
            dispatch_id=dispatch_id,
        )

        return dispatch_report
