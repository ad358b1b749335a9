"""Errors of the registry; each code is one kind of failure."""

from kernel.errors import NotFound, PermissionDenied, ServiceError


class ModelNotFound(NotFound):
    code = "model_not_found"


class VersionNotFound(NotFound):
    code = "version_not_found"


class DatasetNotFound(NotFound):
    code = "dataset_not_found"


class RunNotFound(NotFound):
    code = "run_not_found"


class RegistryInvalid(ServiceError):
    code = "invalid"


class RegistryConflict(ServiceError):
    code = "conflict"
    status_code = 409


class RegistryPermissionDenied(PermissionDenied):
    code = "permission_denied"


class CardRevisionConflict(ServiceError):
    code = "card_revision_conflict"
    status_code = 409


class CardFrozen(ServiceError):
    code = "card_frozen"
    status_code = 409


class LlmEvaluationNotFound(NotFound):
    code = "llm_evaluation_not_found"
