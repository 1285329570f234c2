from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.o_auth_problem_error import OAuthProblemError, check_o_auth_problem_error
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.field_error import FieldError


T = TypeVar("T", bound="OAuthProblem")


@_attrs_define
class OAuthProblem:
    """A refusal of the token endpoint: a problem document that also carries OAuth2's error
    members (RFC 6749 §5.2), so that an OAuth2 client library reads it as it expects.

        Attributes:
            type_ (str): A URI reference that identifies the problem type. Example: urn:contract-api:problem:validation-
                error.
            title (str): A short, human-readable summary of the problem type. Example: Validation failed.
            status (int): The HTTP status code of this response.
            error (OAuthProblemError): OAuth2's error code.
            error_description (str): The same text as `detail`.
            detail (str | Unset): A human-readable explanation specific to this occurrence.
            instance (str | Unset): The request path this problem occurred on.
            errors (list[FieldError] | Unset): For validation problems, one entry per offending field.
    """

    type_: str
    title: str
    status: int
    error: OAuthProblemError
    error_description: str
    detail: str | Unset = UNSET
    instance: str | Unset = UNSET
    errors: list[FieldError] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        type_ = self.type_

        title = self.title

        status = self.status

        error: str = self.error

        error_description = self.error_description

        detail = self.detail

        instance = self.instance

        errors: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.errors, Unset):
            errors = []
            for errors_item_data in self.errors:
                errors_item = errors_item_data.to_dict()
                errors.append(errors_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
                "error": error,
                "error_description": error_description,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail
        if instance is not UNSET:
            field_dict["instance"] = instance
        if errors is not UNSET:
            field_dict["errors"] = errors

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.field_error import FieldError  # noqa: PLC0415

        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        error = check_o_auth_problem_error(d.pop("error"))

        error_description = d.pop("error_description")

        detail = d.pop("detail", UNSET)

        instance = d.pop("instance", UNSET)

        _errors = d.pop("errors", UNSET)
        errors: list[FieldError] | Unset = UNSET
        if _errors is not UNSET:
            errors = []
            for errors_item_data in _errors:
                errors_item = FieldError.from_dict(errors_item_data)

                errors.append(errors_item)

        o_auth_problem = cls(
            type_=type_,
            title=title,
            status=status,
            error=error,
            error_description=error_description,
            detail=detail,
            instance=instance,
            errors=errors,
        )

        o_auth_problem.additional_properties = d
        return o_auth_problem

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
