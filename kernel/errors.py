"""Errors raised by services; ``kernel.api`` renders them as JSON and
``kernel.pages`` turns them into 404/403 responses and form errors."""


class ServiceError(Exception):
    """A business rule refused the operation. Nothing was changed."""

    code = "invalid"
    status_code = 400

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvalidInput(ServiceError):
    """The input has field errors (``fields`` names them); nothing was changed."""

    code = "invalid"
    status_code = 400


class NotFound(ServiceError):
    """The object does not exist, or the actor may not know that it does."""

    code = "not_found"
    status_code = 404


class PermissionDenied(ServiceError):
    code = "permission_denied"
    status_code = 403


class TokenAlreadyRevoked(ServiceError):
    code = "token_already_revoked"
    status_code = 409
