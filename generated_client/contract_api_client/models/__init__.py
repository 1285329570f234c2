"""Contains all the data models used in inputs/outputs"""

from .api_client import ApiClient
from .api_client_created import ApiClientCreated
from .api_client_input import ApiClientInput
from .api_client_page import ApiClientPage
from .field_error import FieldError
from .greeting import Greeting
from .list_users_sort import ListUsersSort
from .problem import Problem
from .process_request import ProcessRequest
from .process_response import ProcessResponse
from .process_response_status import ProcessResponseStatus
from .process_result import ProcessResult
from .record import Record
from .record_page import RecordPage
from .scope import Scope
from .token_request import TokenRequest
from .token_response import TokenResponse
from .token_response_token_type import TokenResponseTokenType
from .user import User
from .user_input import UserInput
from .user_page import UserPage
from .user_patch import UserPatch

__all__ = (
    "ApiClient",
    "ApiClientCreated",
    "ApiClientInput",
    "ApiClientPage",
    "FieldError",
    "Greeting",
    "ListUsersSort",
    "Problem",
    "ProcessRequest",
    "ProcessResponse",
    "ProcessResponseStatus",
    "ProcessResult",
    "Record",
    "RecordPage",
    "Scope",
    "TokenRequest",
    "TokenResponse",
    "TokenResponseTokenType",
    "User",
    "UserInput",
    "UserPage",
    "UserPatch",
)
