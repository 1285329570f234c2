"""Contains all the data models used in inputs/outputs"""

from .field_error import FieldError
from .greeting import Greeting
from .problem import Problem
from .process_request import ProcessRequest
from .process_response import ProcessResponse
from .process_response_status import ProcessResponseStatus
from .process_result import ProcessResult

__all__ = (
    "FieldError",
    "Greeting",
    "Problem",
    "ProcessRequest",
    "ProcessResponse",
    "ProcessResponseStatus",
    "ProcessResult",
)
