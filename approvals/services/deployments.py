"""Deployments: executing an approved request, and one-step rollback."""

from django.db import transaction
from django.utils import timezone

from approvals import access as approvals_access
from approvals import notifications
from approvals.errors import (
    ApprovalInvalid,
    DeploymentNotActive,
    DeploymentNotFound,
    NoRollbackTarget,
)
from approvals.models import (
    Deployment,
    DeploymentRequest,
    DeploymentSource,
    DeploymentStatus,
    Environment,
    RequestStatus,
    Strategy,
)
from audit.services import audit_record
from kernel.secrets import secret_errors
from models_registry import access
from models_registry import services as registry_services
from models_registry.models import RegisteredModel


def _active(model: RegisteredModel, environment: Environment) -> list[Deployment]:
    return list(
        Deployment.objects.select_for_update()
        .filter(model=model, environment=environment, status=DeploymentStatus.ACTIVE)
        .order_by("pk")
    )


def _end(deployment: Deployment, status: str, *, actor, reason: str, now) -> None:
    deployment.status = status
    deployment.ended_at = now
    deployment.ended_by = actor
    deployment.end_reason = reason
    deployment.save(update_fields=["status", "ended_at", "ended_by", "end_reason"])


def deployment_execute(
    *, actor, model: RegisteredModel, request: DeploymentRequest
) -> Deployment:
    """Make the approved request live: end what it replaces, record its rollback
    target, mark the version approved. The caller holds the model row lock and
    has set the request approved."""
    version = request.version
    environment = request.environment
    now = timezone.now()
    active = _active(model, environment)
    live_full = next((d for d in active if d.strategy == Strategy.FULL), None)
    strategy = request.strategy
    if strategy == Strategy.FULL:
        # Full traffic replaces everything live here; a rollback returns to the
        # full deployment it replaced.
        replaced = active
        target = live_full
    else:
        replaced = [d for d in active if d.strategy == strategy]
        target = replaced[0] if replaced else live_full
    for deployment in replaced:
        _end(
            deployment,
            DeploymentStatus.SUPERSEDED,
            actor=actor,
            reason=f"Replaced by request #{request.pk}.",
            now=now,
        )
    deployment = Deployment.objects.create(
        model=model,
        version=version,
        environment=environment,
        artifact=version.artifact,
        artifact_sha256=version.artifact.sha256,
        strategy=strategy,
        traffic_percent=request.traffic_percent,
        source=DeploymentSource.REQUEST,
        request=request,
        rollback_target=target,
        deployed_by=actor,
        started_at=now,
    )
    request.status = RequestStatus.EXECUTED
    request.closed_at = now
    request.save(update_fields=["status", "closed_at"])
    registry_services.model_version_mark_approved(
        version_id=version.pk, is_production=environment.is_production, now=now
    )
    audit_record(
        actor=actor,
        action="deployment.executed",
        target=deployment,
        scope=model.name,
        payload={
            "request": request.pk,
            "version": version.version,
            "environment": environment.name,
            "artifact": {"id": version.artifact_id, "sha256": version.artifact.sha256},
            "strategy": strategy,
            "traffic_percent": request.traffic_percent,
            "rollback_target": target.pk if target else None,
            "superseded": [d.pk for d in replaced],
        },
    )
    notifications.notify_deployment_executed(deployment)
    return deployment


def deployment_rollback(
    *, actor, deployment_id: int, reason: str
) -> tuple[Deployment, Deployment | None]:
    """Undo an active deployment at once, without a new approval: it restores
    what was already approved. Returns (rolled back, restored or None)."""
    reason = (reason or "").strip()
    model_id = (
        Deployment.objects.filter(pk=deployment_id)
        .values_list("model_id", flat=True)
        .first()
    )
    if model_id is None:
        raise DeploymentNotFound("No such deployment.")
    with transaction.atomic():
        model = RegisteredModel.objects.select_for_update().get(pk=model_id)
        if not access.has_model_permission(actor, model, access.VIEW):
            raise DeploymentNotFound("No such deployment.")
        if refusal := approvals_access.roll_back_refusal(actor, model):
            raise refusal
        errors = {}
        if not reason:
            errors["reason"] = ["Say why you roll back."]
        elif secrets := secret_errors(reason):
            errors["reason"] = secrets
        if errors:
            raise ApprovalInvalid("Nothing was rolled back.", fields=errors)
        deployment = (
            Deployment.objects.select_for_update(of=("self",))
            .select_related("environment", "version", "rollback_target__version")
            .get(pk=deployment_id)
        )
        if deployment.status != DeploymentStatus.ACTIVE:
            raise DeploymentNotActive(
                f"Deployment #{deployment.pk} is {deployment.status}: only a live "
                "deployment can be rolled back."
            )
        target = deployment.rollback_target
        if target is None:
            raise NoRollbackTarget(
                f"Deployment #{deployment.pk} replaced nothing: there is no earlier "
                "deployment to go back to. Deploy another version instead."
            )
        now = timezone.now()
        _end(
            deployment,
            DeploymentStatus.ROLLED_BACK,
            actor=actor,
            reason=reason,
            now=now,
        )
        restored = None
        target_is_live = Deployment.objects.filter(
            pk=target.pk, status=DeploymentStatus.ACTIVE
        ).exists()
        if not target_is_live:
            restored = Deployment.objects.create(
                model=model,
                version=target.version,
                environment=deployment.environment,
                artifact_id=target.artifact_id,
                artifact_sha256=target.artifact_sha256,
                strategy=target.strategy,
                traffic_percent=target.traffic_percent,
                source=DeploymentSource.ROLLBACK,
                request=target.request,
                rollback_target=target.rollback_target,
                restores=target,
                deployed_by=actor,
                started_at=now,
            )
        audit_record(
            actor=actor,
            action="deployment.rolled_back",
            target=deployment,
            scope=model.name,
            payload={
                "emergency": True,
                "reason": reason,
                "environment": deployment.environment.name,
                "rolled_back": {
                    "id": deployment.pk,
                    "version": deployment.version.version,
                    "sha256": deployment.artifact_sha256,
                },
                "restored": {
                    "id": restored.pk,
                    "version": target.version.version,
                    "sha256": target.artifact_sha256,
                }
                if restored
                else None,
                "target": target.pk,
            },
        )
        notifications.notify_deployment_rolled_back(deployment, restored)
    return deployment, restored
