"""Who may request, decide, cancel, roll back and validate: each rule once.

Each rule is a ``*_refusal`` function that returns the error the service raises
(or None when the actor may act) and a ``may_*`` function for pages, template
tags and other apps' pages that asks the same rule, so a button is shown
exactly when the action works. The review rule also exists as SQL for lists
(``reviewed_models`` for the reviewer's queue, ``reviewers_of`` for the
notifications), written next to the Python form so the two cannot drift.

Seeing the object at all (404 otherwise) is the registry's VIEW rule
(``models_registry.access``), checked by the selectors and services before
these rules.
"""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from approvals.errors import (
    AlreadyDecided,
    ApprovalPermissionDenied,
    RequestClosed,
    SeparationOfDuties,
)
from approvals.gates import version_authors
from approvals.models import Decision, DeploymentRequest, RequestKind, RequestStatus
from kernel.errors import ServiceError
from kernel.roles import (
    PLATFORM_ADMIN,
    REVIEWER,
    RISK_OFFICER,
    VALIDATOR,
    is_service_account,
    user_roles,
)
from models_registry import access
from models_registry.models import (
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
)

APPROVING_ROLES = (RISK_OFFICER, REVIEWER)  # preference order when both are held
DECIDE_PERMISSION = "approvals.add_decision"
REQUEST_PERMISSION = "approvals.add_deploymentrequest"
VALIDATE_PERMISSION = "approvals.add_validationreport"


def service_account_refusal() -> ServiceError:
    """Whatever roles it is given, a service account approves nothing:
    deciding, validating and rolling back are people's acts."""
    return ApprovalPermissionDenied(
        "A service account approves nothing: decisions, validation and rollback "
        "are made by people."
    )


# --- Request ------------------------------------------------------------------------


def request_refusal(
    actor, model: RegisteredModel, kind: str = RequestKind.DEPLOY
) -> ServiceError | None:
    """The team that owns the model requests its deployments; the model's
    reviewers may also ask for a retrain (monitoring does, in their name)."""
    if actor.has_perm(REQUEST_PERMISSION) and access.has_model_permission(
        actor, model, access.REGISTER
    ):
        return None
    if kind == RequestKind.RETRAIN and access.has_model_permission(
        actor, model, access.REVIEW
    ):
        return None
    return ApprovalPermissionDenied(
        f"Only the team that owns “{model.name}” requests its deployments."
    )


def may_request(actor, model: RegisteredModel, kind: str = RequestKind.DEPLOY) -> bool:
    """Ask for a deployment (by default; ``kind``) of the model's versions."""
    return request_refusal(actor, model, kind) is None


# --- Decide -------------------------------------------------------------------------


def holds_approving_role(actor) -> bool:
    """Holds a role that decides requests (reviewer or risk officer)."""
    return bool(user_roles(actor) & set(APPROVING_ROLES))


def _holds_decide_permission(user_ref) -> Q:
    """SQL: the user (an id, or ``OuterRef("pk")``) holds ``add_decision``
    directly or through a group (what ``has_perm`` checks, superusers aside)."""
    app_label, codename = DECIDE_PERMISSION.split(".")
    decide = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    )
    directly = get_user_model().user_permissions.through.objects.filter(
        user_id=user_ref, permission__in=decide
    )
    through_group = Group.permissions.through.objects.filter(
        group__user=user_ref, permission__in=decide
    )
    return Q(Exists(directly)) | Q(Exists(through_group))


def closed_refusal(request: DeploymentRequest, now: datetime) -> ServiceError | None:
    """A request takes decisions (and cancellation) only while pending and
    unexpired."""
    if request.status != RequestStatus.PENDING:
        return RequestClosed(
            f"Request #{request.pk} is {request.status}: it takes no decision."
        )
    if request.expires_at <= now:
        return RequestClosed(
            f"Request #{request.pk} expired on {request.expires_at:%Y-%m-%d %H:%M} UTC."
        )
    return None


def decide_refusal(
    actor,
    request: DeploymentRequest,
    *,
    decisions: Iterable[Decision],
    now: datetime | None = None,
) -> ServiceError | None:
    """Why the actor may not decide the request now, or None.

    A decider holds ``add_decision`` and the review permission on the model,
    did not ask for the request nor build the version (``version_authors``:
    registered it or recorded its training run; separation of duties), finds
    the request open, has not decided it yet (each person counts
    once) and holds an approving role. ``decisions`` are the request's
    decisions so far; the checks run in this order, so the first refusal is
    the one the service reports.
    """
    model = request.version.model
    if not (
        actor.has_perm(DECIDE_PERMISSION)
        and access.has_model_permission(actor, model, access.REVIEW)
    ):
        return ApprovalPermissionDenied(
            f"You are not a reviewer of “{model.name}”: you cannot decide it."
        )
    if actor.pk == request.requested_by_id:
        return SeparationOfDuties("Nobody decides their own request.")
    if actor.pk == request.version.registered_by_id:
        return SeparationOfDuties(
            "Nobody decides a request for a version they registered."
        )
    if actor.pk in version_authors(request.version):
        return SeparationOfDuties(
            "Nobody decides a request for a version they built: you recorded its "
            "training run."
        )
    if closed := closed_refusal(request, now or timezone.now()):
        return closed
    if any(decision.reviewer_id == actor.pk for decision in decisions):
        return AlreadyDecided(
            "You have decided this request already: each person counts once."
        )
    if not user_roles(actor) & set(APPROVING_ROLES):
        return ApprovalPermissionDenied(
            "Only reviewers and risk officers decide requests."
        )
    if is_service_account(actor):
        return service_account_refusal()
    return None


def may_decide(
    actor,
    request: DeploymentRequest,
    *,
    decisions: Iterable[Decision],
    now: datetime | None = None,
) -> bool:
    """Approve, reject or ask for changes to the request now."""
    now = now or timezone.now()
    # The state first: a closed request costs no permission lookup.
    return closed_refusal(request, now) is None and (
        decide_refusal(actor, request, decisions=decisions, now=now) is None
    )


def decision_role(actor, request: DeploymentRequest, approvals: list[Decision]):
    """The role a decision counts for: a required role not yet covered first,
    else the actor's first approving role (None without one)."""
    held = [role for role in APPROVING_ROLES if role in user_roles(actor)]
    if not held:
        return None
    covered = {decision.role for decision in approvals}
    for role in request.policy_snapshot.get("required_roles", []):
        if role in held and role not in covered:
            return role
    return held[0]


def reviewed_models(actor) -> QuerySet:
    """The models whose requests the actor may decide (``decide_refusal``'s
    permission and role checks as a queryset, no query of its own): the
    reviewer's queue filters with it, then applies separation of duties and
    "not decided yet" in SQL."""
    if not holds_approving_role(actor) or is_service_account(actor):
        return RegisteredModel.objects.none()
    models = access.models_for(actor, access.REVIEW)
    if actor.is_superuser:
        return models
    return models.filter(_holds_decide_permission(actor.pk))


def reviewers_of(model_id: int) -> QuerySet:
    """The active people who may decide requests on the model (before
    separation of duties), as one query: an approving role, ``add_decision``
    and the review permission on the model (each directly or through a group);
    superusers hold every permission."""
    holds_role = Group.objects.filter(user=OuterRef("pk"), name__in=APPROVING_ROLES)
    reviews_directly = RegisteredModelUserObjectPermission.objects.filter(
        content_object_id=model_id,
        user=OuterRef("pk"),
        permission__codename=access.REVIEW,
    )
    reviews_through_group = RegisteredModelGroupObjectPermission.objects.filter(
        content_object_id=model_id,
        group__user=OuterRef("pk"),
        permission__codename=access.REVIEW,
    )
    return (
        get_user_model()
        .objects.filter(is_active=True, service_account__isnull=True)
        .filter(Exists(holds_role))
        .filter(Q(is_superuser=True) | _holds_decide_permission(OuterRef("pk")))
        .filter(
            Q(is_superuser=True)
            | Q(Exists(reviews_directly))
            | Q(Exists(reviews_through_group))
        )
    )


# --- Cancel -------------------------------------------------------------------------


def cancel_refusal(actor, request: DeploymentRequest) -> ServiceError | None:
    """The requester cancels their request; platform admins cancel any."""
    if (
        actor.pk == request.requested_by_id
        or actor.is_superuser
        or PLATFORM_ADMIN in user_roles(actor)
    ):
        return None
    return ApprovalPermissionDenied(
        "Only the requester or a platform admin cancels a request."
    )


def may_cancel(actor, request: DeploymentRequest) -> bool:
    """Withdraw the request (while it is open: ``closed_refusal``)."""
    return cancel_refusal(actor, request) is None


# --- Roll back ----------------------------------------------------------------------


def roll_back_refusal(actor, model: RegisteredModel) -> ServiceError | None:
    """The owning team rolls back (the rollback permission on the model); risk
    officers who oversee a model may pull it back in an emergency."""
    if access.has_model_permission(actor, model, access.ROLLBACK) or (
        RISK_OFFICER in user_roles(actor)
        and access.has_model_permission(actor, model, access.REVIEW)
    ):
        return service_account_refusal() if is_service_account(actor) else None
    return ApprovalPermissionDenied(f"You may not roll back “{model.name}”.")


def may_roll_back(actor, model: RegisteredModel) -> bool:
    """Roll back a live deployment of the model."""
    return roll_back_refusal(actor, model) is None


# --- Validate -----------------------------------------------------------------------


def is_validator(actor) -> bool:
    """Holds the validator role, with the permission that goes with it."""
    return (
        VALIDATOR in user_roles(actor)
        and not is_service_account(actor)
        and actor.has_perm(VALIDATE_PERMISSION)
    )


def validate_refusal(actor, version: ModelVersion) -> ServiceError | None:
    """Validators record reports, never on a version they built
    (``gates.version_authors``: its registrant and its training run's author)."""
    if not is_validator(actor):
        if VALIDATOR in user_roles(actor) and is_service_account(actor):
            return service_account_refusal()
        return ApprovalPermissionDenied("Only validators record validation reports.")
    if actor.pk in version_authors(version):
        return SeparationOfDuties("A validator cannot validate a version they built.")
    return None


def may_validate(actor, version: ModelVersion) -> bool:
    """Record an independent validation report on the version."""
    return validate_refusal(actor, version) is None
