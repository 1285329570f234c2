"""Contains all the data models used in inputs/outputs"""

from .api_client import ApiClient
from .api_client_created import ApiClientCreated
from .api_client_input import ApiClientInput
from .api_client_page import ApiClientPage
from .attempt import Attempt
from .check import Check
from .check_status import CheckStatus
from .circuit_breaker import CircuitBreaker
from .circuit_breaker_input import CircuitBreakerInput
from .circuit_breaker_patch import CircuitBreakerPatch
from .circuit_state import CircuitState
from .circuit_state_state import CircuitStateState
from .delivery import Delivery
from .delivery_error import DeliveryError
from .delivery_policy import DeliveryPolicy
from .delivery_policy_input import DeliveryPolicyInput
from .delivery_policy_patch import DeliveryPolicyPatch
from .delivery_state import DeliveryState
from .destination import Destination
from .destination_input import DestinationInput
from .destination_page import DestinationPage
from .destination_patch import DestinationPatch
from .dispatch import Dispatch
from .dispatch_error import DispatchError
from .dispatch_error_type import DispatchErrorType
from .dispatch_failed import DispatchFailed
from .dispatch_mode import DispatchMode
from .dispatch_page import DispatchPage
from .dispatch_report import DispatchReport
from .dispatch_report_summary import DispatchReportSummary
from .dispatch_request import DispatchRequest
from .dispatch_request_payload import DispatchRequestPayload
from .dispatch_result import DispatchResult
from .dispatch_result_outcome import DispatchResultOutcome
from .dispatch_state import DispatchState
from .downstream_header import DownstreamHeader
from .downstream_header_change import DownstreamHeaderChange
from .field_error import FieldError
from .greeting import Greeting
from .list_users_sort import ListUsersSort
from .liveness import Liveness
from .liveness_status import LivenessStatus
from .not_ready import NotReady
from .o_auth_problem import OAuthProblem
from .o_auth_problem_error import OAuthProblemError
from .problem import Problem
from .process_request import ProcessRequest
from .process_response import ProcessResponse
from .process_response_status import ProcessResponseStatus
from .process_result import ProcessResult
from .readiness import Readiness
from .readiness_checks import ReadinessChecks
from .readiness_status import ReadinessStatus
from .record import Record
from .record_page import RecordPage
from .retry_policy import RetryPolicy
from .retry_policy_input import RetryPolicyInput
from .retry_policy_patch import RetryPolicyPatch
from .scope import Scope
from .secret_rotation import SecretRotation
from .signing_state import SigningState
from .token_request import TokenRequest
from .token_request_grant_type import TokenRequestGrantType
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
    "Attempt",
    "Check",
    "CheckStatus",
    "CircuitBreaker",
    "CircuitBreakerInput",
    "CircuitBreakerPatch",
    "CircuitState",
    "CircuitStateState",
    "Delivery",
    "DeliveryError",
    "DeliveryPolicy",
    "DeliveryPolicyInput",
    "DeliveryPolicyPatch",
    "DeliveryState",
    "Destination",
    "DestinationInput",
    "DestinationPage",
    "DestinationPatch",
    "Dispatch",
    "DispatchError",
    "DispatchErrorType",
    "DispatchFailed",
    "DispatchMode",
    "DispatchPage",
    "DispatchReport",
    "DispatchReportSummary",
    "DispatchRequest",
    "DispatchRequestPayload",
    "DispatchResult",
    "DispatchResultOutcome",
    "DispatchState",
    "DownstreamHeader",
    "DownstreamHeaderChange",
    "FieldError",
    "Greeting",
    "ListUsersSort",
    "Liveness",
    "LivenessStatus",
    "NotReady",
    "OAuthProblem",
    "OAuthProblemError",
    "Problem",
    "ProcessRequest",
    "ProcessResponse",
    "ProcessResponseStatus",
    "ProcessResult",
    "Readiness",
    "ReadinessChecks",
    "ReadinessStatus",
    "Record",
    "RecordPage",
    "RetryPolicy",
    "RetryPolicyInput",
    "RetryPolicyPatch",
    "Scope",
    "SecretRotation",
    "SigningState",
    "TokenRequest",
    "TokenRequestGrantType",
    "TokenResponse",
    "TokenResponseTokenType",
    "User",
    "UserInput",
    "UserPage",
    "UserPatch",
)
