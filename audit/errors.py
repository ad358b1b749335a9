"""Errors raised by the audit app; the API turns them into {code, message, fields}."""


class AuditError(Exception):
    code = "audit_error"
    status_code = 400

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class AuditPayloadInvalid(AuditError):
    code = "audit_payload_invalid"
