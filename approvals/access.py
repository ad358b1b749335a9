"""Who may request, decide, cancel, roll back and validate: each rule once.

The services raise from these rules; selectors, pages, template tags and other
apps' pages ask them, so a button is shown exactly when the action works.
"""

from approvals.gates import version_authors
from approvals.models import DeploymentRequest
from kernel.roles import PLATFORM_ADMIN, RISK_OFFICER, VALIDATOR, user_roles
from models_registry import access
from models_registry.models import ModelVersion, RegisteredModel


def may_request(actor, model: RegisteredModel) -> bool:
    """Ask for a deployment of the model's versions."""
    return actor.has_perm("approvals.add_deploymentrequest") and (
        access.has_model_permission(actor, model, access.REGISTER)
    )


def may_cancel(actor, request: DeploymentRequest) -> bool:
    """The requester cancels their request; platform admins cancel any."""
    return (
        actor.pk == request.requested_by_id
        or actor.is_superuser
        or PLATFORM_ADMIN in user_roles(actor)
    )


def may_roll_back(actor, model: RegisteredModel) -> bool:
    """Roll back a live deployment of the model."""
    if access.has_model_permission(actor, model, access.ROLLBACK):
        return True
    # Risk officers who oversee a model may pull it back in an emergency.
    return RISK_OFFICER in user_roles(actor) and access.has_model_permission(
        actor, model, access.REVIEW
    )


def may_validate(actor, version: ModelVersion) -> bool:
    """Record an independent validation report on the version."""
    return (
        VALIDATOR in user_roles(actor)
        and actor.has_perm("approvals.add_validationreport")
        and actor.pk not in version_authors(version)
    )
