"""Writes of approvals and deployments. Each function is one transaction with
its audit events and notifications (written to the outbox in the transaction,
sent after commit).

Lock order, whenever several rows are locked: the registered model row, then the
deployment request, then deployments (by pk), then the audit chain (taken by
``audit_record``). Locking the model row first serialises every state change of
one model's deployments, so two final approvals cannot both deploy.
"""

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from approvals import access as approvals_access
from approvals import notifications
from approvals.errors import (
    AlreadyDecided,
    ApprovalInvalid,
    ApprovalPermissionDenied,
    DeploymentNotActive,
    DeploymentNotFound,
    FindingNotFound,
    GateFailed,
    NoPolicy,
    NoRollbackTarget,
    RequestClosed,
    RequestNotFound,
    SeparationOfDuties,
)
from approvals.gates import evaluate_gates, failing, version_authors
from approvals.models import (
    ApprovalPolicy,
    Decision,
    Deployment,
    DeploymentRequest,
    DeploymentSource,
    DeploymentStatus,
    Environment,
    Finding,
    FindingStatus,
    Outcome,
    RequestKind,
    RequestStatus,
    Severity,
    Strategy,
    ValidationOutcome,
    ValidationReport,
)
from audit.services import audit_record
from kernel.roles import REVIEWER, RISK_OFFICER, VALIDATOR, user_roles
from models_registry import access
from models_registry import services as registry_services
from models_registry.errors import ModelNotFound
from models_registry.models import ModelVersion, RegisteredModel, VersionStatus
from models_registry.validation import secret_errors

APPROVING_ROLES = (RISK_OFFICER, REVIEWER)  # preference order when both are held


def _policy_snapshot(policy: ApprovalPolicy) -> dict[str, Any]:
    return {
        "id": policy.pk,
        "risk_class": policy.risk_class,
        "environment": policy.environment.name,
        "required_approvals": policy.required_approvals,
        "required_roles": list(policy.required_roles),
        "gate_items": list(policy.gate_items),
        "requires_staged_rollout": policy.requires_staged_rollout,
        "big_change_requires_ab": policy.big_change_requires_ab,
        "approval_valid_days": policy.approval_valid_days,
    }


def policy_for(model: RegisteredModel, environment: Environment) -> ApprovalPolicy:
    policy = (
        ApprovalPolicy.objects.select_related("environment")
        .filter(risk_class=model.risk_class, environment=environment)
        .first()
    )
    if policy is None:
        raise NoPolicy(
            f"No approval policy for {model.risk_class} risk models in {environment}: "
            "a platform admin must define one first."
        )
    return policy


def _strategy_errors(
    kind: str, strategy: str, traffic_percent: int
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if kind not in RequestKind.values:
        errors["kind"] = [f"Must be one of: {', '.join(RequestKind.values)}."]
    if strategy not in Strategy.values:
        errors["strategy"] = [f"Must be one of: {', '.join(Strategy.values)}."]
        return errors
    if not isinstance(traffic_percent, int) or isinstance(traffic_percent, bool):
        errors["traffic_percent"] = ["Must be a whole number."]
        return errors
    ranges = {
        Strategy.SHADOW: (100, 100, "Shadow deployments mirror all traffic: use 100."),
        Strategy.CANARY: (1, 50, "A canary takes 1 to 50 percent of traffic."),
        Strategy.AB: (1, 99, "An A/B test sends 1 to 99 percent to the new version."),
        Strategy.FULL: (100, 100, "A full deployment takes 100 percent."),
    }
    low, high, message = ranges[strategy]
    if not low <= traffic_percent <= high:
        errors["traffic_percent"] = [message]
    if kind == RequestKind.PROMOTE and strategy != Strategy.FULL:
        errors["strategy"] = ["Promoting a canary means going to full traffic."]
    return errors


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
    may_request = access.has_model_permission(actor, model, access.REGISTER)
    may_retrain = kind == RequestKind.RETRAIN and access.has_model_permission(
        actor, model, access.REVIEW
    )
    if not (
        (may_request and actor.has_perm("approvals.add_deploymentrequest"))
        or may_retrain
    ):
        raise ApprovalPermissionDenied(
            f"Only the team that owns “{model.name}” requests its deployments."
        )
    if traffic_percent is None:
        traffic_percent = {Strategy.CANARY: 10, Strategy.AB: 50}.get(strategy, 100)
    errors = _strategy_errors(kind, strategy, traffic_percent)
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
        duplicate = DeploymentRequest.objects.filter(
            version=version, environment=environment, status=RequestStatus.PENDING
        ).first()
        if duplicate is not None:
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
            policy_snapshot=_policy_snapshot(policy),
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


def _lock_request(request_id: int) -> tuple[RegisteredModel, DeploymentRequest]:
    """Lock the model row, then the request row (the documented lock order)."""
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
        .select_related("version", "version__model", "environment", "version__artifact")
        .get(pk=request_id)
    )
    return model, request


def _ensure_open(request: DeploymentRequest, now: datetime) -> None:
    if request.status != RequestStatus.PENDING:
        raise RequestClosed(
            f"Request #{request.pk} is {request.status}: it takes no decision."
        )
    if request.expires_at <= now:
        raise RequestClosed(
            f"Request #{request.pk} expired on {request.expires_at:%Y-%m-%d %H:%M} UTC."
        )


def _role_for(
    actor, request: DeploymentRequest, approvals: list[Decision]
) -> str | None:
    """The role this decision counts for: a required role not yet covered first."""
    held = [role for role in APPROVING_ROLES if role in user_roles(actor)]
    if not held:
        return None
    covered = {decision.role for decision in approvals}
    for role in request.policy_snapshot.get("required_roles", []):
        if role in held and role not in covered:
            return role
    return held[0]


def decision_record(
    *, actor, request_id: int, outcome: str, comment: str = ""
) -> tuple[Decision, Deployment | None]:
    """Record a reviewer's decision. The approval that completes the policy
    re-checks the gates and executes the request in the same transaction."""
    comment = (comment or "").strip()
    errors: dict[str, list[str]] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = [f"Must be one of: {', '.join(Outcome.values)}."]
    if outcome in (Outcome.REJECT, Outcome.REQUEST_CHANGES) and not comment:
        errors["comment"] = [
            "Say why: a rejection or a change request needs a comment."
        ]
    if comment and (secrets := secret_errors(comment)):
        errors.setdefault("comment", []).extend(secrets)
    if errors:
        raise ApprovalInvalid("The decision was not recorded.", fields=errors)
    with transaction.atomic():
        model, request = _lock_request(request_id)
        if not access.has_model_permission(actor, model, access.VIEW):
            raise RequestNotFound("No such request.")
        if not (
            actor.has_perm("approvals.add_decision")
            and access.has_model_permission(actor, model, access.REVIEW)
        ):
            raise ApprovalPermissionDenied(
                f"You are not a reviewer of “{model.name}”: you cannot decide it."
            )
        if actor.pk == request.requested_by_id:
            raise SeparationOfDuties("Nobody decides their own request.")
        if actor.pk == request.version.registered_by_id:
            raise SeparationOfDuties(
                "Nobody decides a request for a version they registered."
            )
        now = timezone.now()
        _ensure_open(request, now)
        previous = list(Decision.objects.filter(request=request))
        if any(decision.reviewer_id == actor.pk for decision in previous):
            raise AlreadyDecided(
                "You have decided this request already: each person counts once."
            )
        approvals = [d for d in previous if d.outcome == Outcome.APPROVE]
        role = _role_for(actor, request, approvals)
        if role is None:
            raise ApprovalPermissionDenied(
                "Only reviewers and risk officers decide requests."
            )
        decision = Decision(
            request=request, reviewer=actor, outcome=outcome, role=role, comment=comment
        )
        deployment = None
        if outcome == Outcome.APPROVE and _completes_policy(
            request, [*approvals, decision]
        ):
            gates = evaluate_gates(
                version=request.version,
                environment=request.environment,
                policy=policy_for(model, request.environment),
                strategy=request.strategy,
                kind=request.kind,
            )
            blocked = failing(gates)
            if blocked:
                raise GateFailed(
                    "The final approval is blocked: "
                    + "; ".join(
                        f"{gate['title']}: {gate['reason']}" for gate in blocked
                    ),
                    fields={"gates": [gate["id"] for gate in blocked]},
                )
            decision.save()
            request.final_gate_results = gates
            request.status = RequestStatus.APPROVED
            request.save(update_fields=["final_gate_results", "status"])
            _audit_decision(actor, model, request, decision)
            deployment = _execute(actor=actor, model=model, request=request)
        else:
            decision.save()
            _audit_decision(actor, model, request, decision)
            if outcome == Outcome.REJECT:
                _close(request, RequestStatus.REJECTED, actor=actor, comment=comment)
        notifications.notify_decision_recorded(decision)
    return decision, deployment


def _completes_policy(request: DeploymentRequest, approvals: list[Decision]) -> bool:
    policy = request.policy_snapshot
    approvers = {decision.reviewer_id for decision in approvals}
    roles = {decision.role for decision in approvals}
    return (
        len(approvers) >= policy.get("required_approvals", 1)
        and set(policy.get("required_roles", [])) <= roles
    )


def _audit_decision(actor, model, request, decision) -> None:
    audit_record(
        actor=actor,
        action="request.decided",
        target=request,
        scope=model.name,
        payload={
            "outcome": decision.outcome,
            "role": decision.role,
            "comment": decision.comment,
            "version": request.version.version,
            "environment": request.environment.name,
        },
    )


def _close(request: DeploymentRequest, status: str, *, actor, comment: str) -> None:
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


def _execute(
    *, actor, model: RegisteredModel, request: DeploymentRequest
) -> Deployment:
    """Make the approved request live. The caller holds the model row lock."""
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


def deployment_request_cancel(
    *, actor, request_id: int, reason: str = ""
) -> DeploymentRequest:
    with transaction.atomic():
        model, request = _lock_request(request_id)
        if not access.has_model_permission(actor, model, access.VIEW):
            raise RequestNotFound("No such request.")
        if not approvals_access.may_cancel(actor, request):
            raise ApprovalPermissionDenied(
                "Only the requester or a platform admin cancels a request."
            )
        if secrets := secret_errors(reason or ""):
            raise ApprovalInvalid(
                "The request was not cancelled.", fields={"reason": secrets}
            )
        _ensure_open(request, timezone.now())
        _close(
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
            _, request = _lock_request(request_id)
            if request.status == RequestStatus.PENDING and request.expires_at <= now:
                _close(
                    request,
                    RequestStatus.EXPIRED,
                    actor=None,
                    comment="Approval window ended.",
                )
                expired += 1
    return expired


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
        if not approvals_access.may_roll_back(actor, model):
            raise ApprovalPermissionDenied(f"You may not roll back “{model.name}”.")
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


def validation_report_record(
    *,
    actor,
    version: ModelVersion,
    outcome: str,
    summary: str,
    findings: list[dict[str, Any]] | None = None,
) -> ValidationReport:
    """Record an independent validator's report (effective challenge)."""
    findings = findings or []
    model = version.model
    if not access.has_model_permission(actor, model, access.VIEW):
        raise ModelNotFound("No such model.")
    if VALIDATOR not in user_roles(actor) or not actor.has_perm(
        "approvals.add_validationreport"
    ):
        raise ApprovalPermissionDenied("Only validators record validation reports.")
    if actor.pk in version_authors(version):
        raise SeparationOfDuties("A validator cannot validate a version they built.")
    errors: dict[str, list[str]] = {}
    if outcome not in ValidationOutcome.values:
        errors["outcome"] = [f"Must be one of: {', '.join(ValidationOutcome.values)}."]
    if not (summary or "").strip():
        errors["summary"] = ["Summarise the validation."]
    owners = {
        user.get_username(): user
        for user in get_user_model().objects.filter(
            username__in=[f.get("owner") for f in findings if isinstance(f, dict)],
            is_active=True,
        )
    }
    for index, finding in enumerate(findings):
        where = f"findings[{index}]"
        if not isinstance(finding, dict):
            errors[where] = ["Must be an object."]
            continue
        problems = []
        if finding.get("severity") not in Severity.values:
            problems.append(f"severity must be one of: {', '.join(Severity.values)}.")
        if not str(finding.get("title", "")).strip():
            problems.append("title is required.")
        if finding.get("owner") not in owners:
            problems.append("owner must be an active user's username.")
        text = f"{finding.get('title', '')} {finding.get('description', '')}"
        problems.extend(secret_errors(text))
        due = finding.get("due_date")
        if due is not None and not isinstance(due, date):
            problems.append("due_date must be a date.")
        if problems:
            errors[where] = problems
    if outcome == ValidationOutcome.PASSED and findings:
        errors.setdefault("outcome", []).append(
            "With findings, the outcome is passed_with_findings or failed."
        )
    for field, text in (("summary", summary or ""),):
        if secrets := secret_errors(text):
            errors.setdefault(field, []).extend(secrets)
    if errors:
        raise ApprovalInvalid("The validation report was not recorded.", fields=errors)
    with transaction.atomic():
        report = ValidationReport.objects.create(
            version=version, validator=actor, outcome=outcome, summary=summary.strip()
        )
        Finding.objects.bulk_create(
            [
                Finding(
                    report=report,
                    severity=finding["severity"],
                    title=finding["title"].strip(),
                    description=finding.get("description", ""),
                    owner=owners[finding["owner"]],
                    due_date=finding.get("due_date"),
                )
                for finding in findings
            ]
        )
        audit_record(
            actor=actor,
            action="validation.recorded",
            target=version,
            scope=model.name,
            payload={
                "report": report.pk,
                "outcome": outcome,
                "findings": [
                    {
                        "severity": f["severity"],
                        "title": f["title"],
                        "owner": f["owner"],
                    }
                    for f in findings
                ],
            },
        )
    return report


def finding_status_change(
    *, actor, finding_id: int, status: str, comment: str = ""
) -> Finding:
    """Validators (or the finding's owner, for resolution) move a finding."""
    with transaction.atomic():
        finding = (
            Finding.objects.select_for_update(of=("self",))
            .select_related("report__version__model")
            .filter(pk=finding_id)
            .first()
        )
        if finding is None or not access.has_model_permission(
            actor, finding.report.version.model, access.VIEW
        ):
            raise FindingNotFound("No such finding.")
        if status not in FindingStatus.values:
            raise ApprovalInvalid(
                "The finding was not changed.",
                fields={
                    "status": [f"Must be one of: {', '.join(FindingStatus.values)}."]
                },
            )
        if secrets := secret_errors(comment or ""):
            raise ApprovalInvalid(
                "The finding was not changed.", fields={"comment": secrets}
            )
        is_validator = VALIDATOR in user_roles(actor)
        if status == FindingStatus.ACCEPTED and not is_validator:
            raise ApprovalPermissionDenied("Only validators accept a finding's risk.")
        if not (is_validator or actor.pk == finding.owner_id):
            raise ApprovalPermissionDenied(
                "Only validators and the owner move a finding."
            )
        previous = finding.status
        finding.status = status
        finding.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="finding.status_changed",
            target=finding.report.version,
            scope=finding.report.version.model.name,
            payload={
                "finding": finding.pk,
                "diff": {"status": [previous, status]},
                "comment": comment,
            },
        )
    return finding


def policy_change_record(
    *, actor, policy: ApprovalPolicy, before: dict[str, Any]
) -> None:
    """Audit an approval policy changed by a platform admin (called by the admin
    inside its transaction, after saving)."""
    after = _policy_snapshot(policy)
    diff = {
        key: [before.get(key), value]
        for key, value in after.items()
        if before.get(key) != value
    }
    audit_record(
        actor=actor,
        action="policy.changed" if before else "policy.created",
        target=policy,
        payload={"policy": after, "diff": diff},
    )
