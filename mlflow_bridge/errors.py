"""MLflow's error format: ``{"error_code", "message"}`` with MLflow's status codes.

The bridge raises these; ``api`` renders them. Gatehouse's own service errors
are translated by ``from_service_error`` so that a refusal of the registry or of
the approvals reaches an MLflow client in the shape it understands.
"""

from approvals.errors import NoPolicy
from kernel.errors import NotFound, PermissionDenied, ServiceError

RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
PERMISSION_DENIED = "PERMISSION_DENIED"
UNAUTHENTICATED = "UNAUTHENTICATED"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"

# mlflow.exceptions.ERROR_CODE_TO_HTTP_STATUS. INVALID_STATE (500) is never
# used: the MLflow client retries 5xx answers for minutes, so refusals that
# governance makes are PERMISSION_DENIED (403), which it reports at once.
STATUS = {
    RESOURCE_DOES_NOT_EXIST: 404,
    RESOURCE_ALREADY_EXISTS: 400,
    INVALID_PARAMETER_VALUE: 400,
    PERMISSION_DENIED: 403,
    UNAUTHENTICATED: 401,
    ENDPOINT_NOT_FOUND: 404,
    REQUEST_LIMIT_EXCEEDED: 429,
}


class MlflowError(Exception):
    def __init__(
        self, error_code: str, message: str, *, retry_after: int | None = None
    ):
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        # Seconds, sent as Retry-After (REQUEST_LIMIT_EXCEEDED).
        self.retry_after = retry_after

    @property
    def status_code(self) -> int:
        return STATUS[self.error_code]

    def as_json(self) -> dict[str, str]:
        return {"error_code": self.error_code, "message": self.message}


def does_not_exist(message: str) -> MlflowError:
    return MlflowError(RESOURCE_DOES_NOT_EXIST, message)


def invalid(message: str) -> MlflowError:
    return MlflowError(INVALID_PARAMETER_VALUE, message)


def denied(message: str) -> MlflowError:
    return MlflowError(PERMISSION_DENIED, message)


def from_service_error(error: ServiceError) -> MlflowError:
    """Translate a Gatehouse service refusal, keeping its field messages."""
    message = error.message
    details = "; ".join(
        f"{field}: {' '.join(problems)}" for field, problems in error.fields.items()
    )
    if details:
        message = f"{message} {details}"
    if isinstance(error, NotFound):
        return MlflowError(RESOURCE_DOES_NOT_EXIST, message)
    if isinstance(error, PermissionDenied | NoPolicy):
        return MlflowError(PERMISSION_DENIED, message)
    # Invalid input and conflicts (409) alike: the request cannot be done as sent.
    return MlflowError(INVALID_PARAMETER_VALUE, message)
