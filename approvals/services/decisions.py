"""Reviewers' decisions on requests; the approval that completes the policy
re-checks the gates and deploys in the same transaction."""

from django.db import transaction
from django.utils import timezone

from approvals import access as approvals_access
from approvals import notifications
from approvals.errors import ApprovalInvalid, GateFailed, RequestNotFound
from approvals.gates import evaluate_gates, failing
from approvals.models import (
    Decision,
    Deployment,
    DeploymentRequest,
    Outcome,
    RequestStatus,
)
from approvals.services.deployments import deployment_execute
from approvals.services.policies import policy_for
from approvals.services.requests import request_close, request_lock
from audit.services import audit_record
from kernel.secrets import secret_errors
from models_registry import access


def decision_record(
    *, actor, request_id: int, outcome: str, comment: str = ""
) -> tuple[Decision, Deployment | None]:
    """Record a reviewer's decision. The approval that completes the policy
    re-checks the gates and executes the request in the same transaction; a
    failing gate raises ``GateFailed`` carrying the failing gates."""
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
        model, request = request_lock(request_id)
        if not access.has_model_permission(actor, model, access.VIEW):
            raise RequestNotFound("No such request.")
        previous = list(Decision.objects.filter(request=request))
        if refusal := approvals_access.decide_refusal(
            actor, request, decisions=previous, now=timezone.now()
        ):
            raise refusal
        approvals = [d for d in previous if d.outcome == Outcome.APPROVE]
        role = approvals_access.decision_role(actor, request, approvals)
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
                    gates=blocked,
                )
            decision.save()
            request.final_gate_results = gates
            request.status = RequestStatus.APPROVED
            request.save(update_fields=["final_gate_results", "status"])
            _audit_decision(actor, model, request, decision)
            deployment = deployment_execute(actor=actor, model=model, request=request)
        else:
            decision.save()
            _audit_decision(actor, model, request, decision)
            if outcome == Outcome.REJECT:
                request_close(
                    request, RequestStatus.REJECTED, actor=actor, comment=comment
                )
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
