"""Template tags that show approvals on other apps' pages.

The registry does not import approvals (dependencies point one way), so its model
page asks for the deployments through ``{% model_deployments model %}``.
"""

from django import template

from approvals import access as approvals_access
from approvals import selectors
from approvals.models import DeploymentStatus, Environment
from kernel.roles import ROLE_LABELS
from models_registry.models import VersionStatus

register = template.Library()


@register.inclusion_tag("approvals/_model_deployments.html", takes_context=True)
def model_deployments(context, model):
    """What is live for the model in each environment (two queries), with the
    rollback button for people allowed to use it."""
    user = context["request"].user
    active = list(
        selectors.deployment_list(actor=user, model=model).filter(
            status=DeploymentStatus.ACTIVE
        )
    )
    environments = [
        {
            "environment": environment,
            "deployments": sorted(
                (d for d in active if d.environment_id == environment.pk),
                key=lambda d: (d.strategy != "full", d.pk),
            ),
        }
        for environment in Environment.objects.order_by("order")
    ]
    return {
        "model": model,
        "environments": environments,
        "may_roll_back": bool(active) and approvals_access.may_roll_back(user, model),
    }


@register.inclusion_tag("approvals/_version_requests.html", takes_context=True)
def version_requests(context, version):
    """On the version's page: its pending requests (one query) and, for the team
    that owns the model, the action that asks for a deployment."""
    user = context["request"].user
    pending = list(
        selectors.request_list(actor=user, filters={"status": "pending"}).filter(
            version=version
        )
    )
    return {
        "version": version,
        "model": version.model,
        "pending": pending,
        "may_request": version.status != VersionStatus.ARCHIVED
        and approvals_access.may_request(user, version.model),
    }


@register.filter
def role_label(role: str) -> str:
    """ "risk_officer" → "Risk officer"."""
    return ROLE_LABELS.get(role, role)


STRATEGY_LABELS = {"shadow": "Shadow", "canary": "Canary", "full": "Full", "ab": "A/B"}


@register.filter
def strategy_label(strategy: str) -> str:
    """The short name of a strategy, for tables and badges."""
    return STRATEGY_LABELS.get(strategy, strategy)
