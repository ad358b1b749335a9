"""Who may do what with a model's monitoring. Built on the registry's rule
(``models_registry.access``): whoever may not see the model gets a 404.

* see dashboards, windows, batches and alerts: anyone who may see the model
  (its team, assigned reviewers, auditors, platform admins);
* push data and upload references: holders of the global
  ``monitoring.push_data`` permission (data scientists; give it to a service
  account for a serving system) who hold ``register_version`` on the model,
  that is members of the owning team (or people given it on this model);
* acknowledge and resolve alerts, label the review queue: the owning team and
  the reviewers and risk officers assigned to the model (validators, assigned
  too, only read);
* change the monitoring configuration: the owning team (``change_registeredmodel``).
"""

from django.db.models import Q, QuerySet

from kernel.roles import REVIEWER, RISK_OFFICER, user_has_role
from models_registry import access
from models_registry.models import RegisteredModel

PUSH_PERMISSION = "monitoring.push_data"


def may_view(actor, model) -> bool:
    return access.has_model_permission(actor, model, access.VIEW)


def may_push(actor, model) -> bool:
    return bool(
        getattr(actor, "is_authenticated", False)
        and actor.has_perm(PUSH_PERMISSION)
        and access.has_model_permission(actor, model, access.REGISTER)
    )


def may_respond(actor, model) -> bool:
    if access.has_model_permission(actor, model, access.REGISTER):
        return True
    return user_has_role(actor, REVIEWER, RISK_OFFICER) and (
        access.has_model_permission(actor, model, access.REVIEW)
    )


def may_configure(actor, model) -> bool:
    return access.has_model_permission(actor, model, access.CHANGE)


def models_responded_by(actor) -> QuerySet:
    """The models whose alerts and review queue the actor works."""
    registered = access.models_for(actor, access.REGISTER).values("pk")
    if not user_has_role(actor, REVIEWER, RISK_OFFICER):
        return RegisteredModel.objects.filter(pk__in=registered)
    reviewed = access.models_for(actor, access.REVIEW).values("pk")
    return RegisteredModel.objects.filter(Q(pk__in=registered) | Q(pk__in=reviewed))
