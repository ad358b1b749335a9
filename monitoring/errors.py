"""Errors of monitoring: one code per failure, rendered as
{"code", "message", "fields"} by the API's exception handler."""

from kernel.errors import NotFound, PermissionDenied, ServiceError


class BatchInvalid(ServiceError):
    code = "batch_invalid"


class PayloadTooLarge(ServiceError):
    code = "payload_too_large"
    status_code = 413


class TooManyRows(ServiceError):
    code = "too_many_rows"


class TooManyFeatures(ServiceError):
    code = "too_many_features"


class BatchIdReused(ServiceError):
    """The batch id was used before for a batch with different content."""

    code = "batch_id_reused"
    status_code = 409


class NoLiveVersion(ServiceError):
    code = "no_live_version"


class TargetNotFound(NotFound):
    code = "target_not_found"


class EnvironmentNotFound(NotFound):
    code = "environment_not_found"


class BatchNotFound(NotFound):
    code = "batch_not_found"


class AlertNotFound(NotFound):
    code = "alert_not_found"


class ReviewItemNotFound(NotFound):
    code = "review_item_not_found"


class MonitoringPermissionDenied(PermissionDenied):
    code = "permission_denied"


class AlertStateInvalid(ServiceError):
    code = "alert_state_invalid"
    status_code = 409


class ReviewItemLabelled(ServiceError):
    code = "review_item_labelled"
    status_code = 409


class MonitoringInvalid(ServiceError):
    code = "invalid"


class NoReference(ServiceError):
    """A profile needs the bins of a reference, and the version has none yet."""

    code = "no_reference"
    status_code = 409
