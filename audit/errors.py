"""Errors raised by the audit app; the API turns them into {code, message, fields}."""

from kernel.errors import ServiceError


class AuditError(ServiceError):
    code = "audit_error"
    status_code = 400


class AuditPayloadInvalid(AuditError):
    code = "audit_payload_invalid"
