"""Deployment requests: submit, cancel, expire; and the request lock and close
steps that the decisions share."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from approvals import access as approvals_access
from approvals import notifications
from approvals.errors import ApprovalInvalid, RequestNotFound
from approvals.gates import evaluate_gates, failing
from approvals.models import (
    DeploymentRequest,
    Environment,
    RequestKind,
    RequestStatus,
    Strategy,
)
from approvals.services.policies import policy_for, policy_snapshot, strategy_errors
from audit.services import audit_record
from kernel.secrets import secret_errors
from models_registry import access
from models_registry.errors import ModelNotFound
from models_registry.models import ModelVersion, RegisteredModel, VersionStatus


def deployment_request_submit(
    *,
    actor,
    version: ModelVersion,
    environment: Environment,
    strategy: str,
    justification: str,
    kind: str = RequestKind.DEPLOY,
    traffic_percent: int | None = None,
) -> DeploymentRequest:
    """Open a request; its gates are evaluated now and stored on it."""
    model = version.model
    if not access.has_model_permission(actor, model, access.VIEW):
        raise ModelNotFound("No such model.")
    if refusal := approvals_access.request_refusal(actor, model, kind):
        raise refusal
    if traffic_percent is None:
        traffic_percent = {Strategy.CANARY: 10, Strategy.AB: 50}.get(strategy, 100)
    errors = strategy_errors(kind, strategy, traffic_percent)
    justification = (justification or "").strip()
    if not justification:
        errors.setdefault("justification", []).append(
            "Say why this should be deployed."
        )
    elif secrets := secret_errors(justification):
        errors.setdefault("justification", []).extend(secrets)
    if version.status == VersionStatus.ARCHIVED:
        errors.setdefault("version", []).append("Archived versions are not deployed.")
    if errors:
        raise ApprovalInvalid("The request was not submitted.", fields=errors)
    policy = policy_for(model, environment)
    with transaction.atomic():
        RegisteredModel.objects.select_for_update().get(pk=model.pk)
        # An earlier request for the same version and environment: one still
        # open refuses this one; one whose window has ended is expired (it reads
        # so already) and is closed now, with its event, before the new one.
        earlier = (
            DeploymentRequest.objects.select_for_update()
            .filter(
                version=version, environment=environment, status=RequestStatus.PENDING
            )
            .order_by("pk")
        )
        for duplicate in earlier:
            if duplicate.is_overdue:
                _expire(duplicate)
                continue
            raise ApprovalInvalid(
                "The request was not submitted.",
                fields={
                    "version": [
                        f"Request #{duplicate.pk} for this version and environment "
                        "is still pending."
                    ]
                },
            )
        gates = evaluate_gates(
            version=version,
            environment=environment,
            policy=policy,
            strategy=strategy,
            kind=kind,
        )
        now = timezone.now()
        request = DeploymentRequest.objects.create(
            version=version,
            environment=environment,
            kind=kind,
            strategy=strategy,
            traffic_percent=traffic_percent,
            justification=justification,
            policy_snapshot=policy_snapshot(policy),
            gate_results=gates,
            requested_by=actor,
            created_at=now,
            expires_at=now + timedelta(days=policy.approval_valid_days),
        )
        audit_record(
            actor=actor,
            action="request.submitted",
            target=request,
            scope=model.name,
            payload={
                "version": version.version,
                "environment": environment.name,
                "kind": kind,
                "strategy": strategy,
                "traffic_percent": traffic_percent,
                "justification": justification,
                "policy": request.policy_snapshot,
                "failing_gates": [gate["id"] for gate in failing(gates)],
            },
        )
        notifications.notify_request_submitted(request)
    return request


def request_lock(request_id: int) -> tuple[RegisteredModel, DeploymentRequest]:
    """Lock the model row, then the request row (the documented lock order).
    Call inside a transaction."""
    model_id = (
        DeploymentRequest.objects.filter(pk=request_id)
        .values_list("version__model_id", flat=True)
        .first()
    )
    if model_id is None:
        raise RequestNotFound("No such request.")
    model = RegisteredModel.objects.select_for_update().get(pk=model_id)
    request = (
        DeploymentRequest.objects.select_for_update(of=("self",))
        .select_related(
            "version",
            "version__model",
            "version__training_run",
            "environment",
            "version__artifact",
        )
        .get(pk=request_id)
    )
    return model, request


def request_close(request: DeploymentRequest, status: str, *, actor, comment: str):
    """Close a locked request with its audit event and notification."""
    request.status = status
    request.closed_at = timezone.now()
    request.closing_comment = comment
    request.save(update_fields=["status", "closed_at", "closing_comment"])
    audit_record(
        actor=actor,
        action=f"request.{status}",
        target=request,
        scope=request.version.model.name,
        payload={"comment": comment, "version": request.version.version},
    )
    notifications.notify_request_closed(request)


def deployment_request_cancel(
    *, actor, request_id: int, reason: str = ""
) -> DeploymentRequest:
    with transaction.atomic():
        model, request = request_lock(request_id)
        if not access.has_model_permission(actor, model, access.VIEW):
            raise RequestNotFound("No such request.")
        if refusal := approvals_access.cancel_refusal(actor, request):
            raise refusal
        if secrets := secret_errors(reason or ""):
            raise ApprovalInvalid(
                "The request was not cancelled.", fields={"reason": secrets}
            )
        if closed := approvals_access.closed_refusal(request, timezone.now()):
            raise closed
        request_close(
            request,
            RequestStatus.CANCELLED,
            actor=actor,
            comment=(reason or "").strip(),
        )
    return request


def deployment_requests_expire(*, now: datetime | None = None) -> int:
    """Close pending requests whose approval window has ended; return how many."""
    now = now or timezone.now()
    expired = 0
    due = list(
        DeploymentRequest.objects.filter(
            status=RequestStatus.PENDING, expires_at__lte=now
        ).values_list("pk", flat=True)
    )
    for request_id in due:
        with transaction.atomic():
            _, request = request_lock(request_id)
            if request.status == RequestStatus.PENDING and request.expires_at <= now:
                _expire(request)
                expired += 1
    return expired


def _expire(request: DeploymentRequest) -> None:
    """Close a locked request whose approval window has ended, as the system."""
    request_close(
        request, RequestStatus.EXPIRED, actor=None, comment="Approval window ended."
    )
