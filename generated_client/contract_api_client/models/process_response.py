from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.process_response_status import ProcessResponseStatus, check_process_response_status

if TYPE_CHECKING:
    from ..models.process_result import ProcessResult


T = TypeVar("T", bound="ProcessResponse")


@_attrs_define
class ProcessResponse:
    """
    Attributes:
        status (ProcessResponseStatus):
        message (str):  Example: Data processed.
        record_id (int): The id of the stored record (see `GET /records/{record_id}`).
        result (ProcessResult):
    """

    status: ProcessResponseStatus
    message: str
    record_id: int
    result: ProcessResult

    def to_dict(self) -> dict[str, Any]:
        status: str = self.status

        message = self.message

        record_id = self.record_id

        result = self.result.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
                "message": message,
                "record_id": record_id,
                "result": result,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.process_result import ProcessResult  # noqa: PLC0415

        d = dict(src_dict)
        status = check_process_response_status(d.pop("status"))

        message = d.pop("message")

        record_id = d.pop("record_id")

        result = ProcessResult.from_dict(d.pop("result"))

        process_response = cls(
            status=status,
            message=message,
            record_id=record_id,
            result=result,
        )

        return process_response
