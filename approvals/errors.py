"""Errors of approvals and deployments; each code is one kind of failure."""

from typing import Any

from kernel.errors import NotFound, PermissionDenied, ServiceError


class RequestNotFound(NotFound):
    code = "request_not_found"


class DeploymentNotFound(NotFound):
    code = "deployment_not_found"


class FindingNotFound(NotFound):
    code = "finding_not_found"


class EnvironmentNotFound(NotFound):
    code = "environment_not_found"


class ApprovalInvalid(ServiceError):
    code = "invalid"


class ApprovalPermissionDenied(PermissionDenied):
    code = "permission_denied"


class SeparationOfDuties(PermissionDenied):
    code = "separation_of_duties"


class RequestClosed(ServiceError):
    code = "request_closed"
    status_code = 409


class AlreadyDecided(ServiceError):
    code = "already_decided"
    status_code = 409


class GateFailed(ServiceError):
    """A gate fails at the final approval. ``gates`` are the failing gates as
    the service evaluated them (id, title, status, reason), so a page shows
    them without evaluating the gates again; ``fields["gates"]`` their ids."""

    code = "gate_failed"
    status_code = 409

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        gates: list[dict[str, Any]] | None = None,
    ):
        super().__init__(message, fields=fields)
        self.gates = gates or []


class NoPolicy(ServiceError):
    code = "no_policy"
    status_code = 409


class NoRollbackTarget(ServiceError):
    code = "no_rollback_target"
    status_code = 409


class DeploymentNotActive(ServiceError):
    code = "deployment_not_active"
    status_code = 409
