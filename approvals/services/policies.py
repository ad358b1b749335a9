"""Approval policies: which policy covers a request, its snapshot (copied onto
each request and into the audit log), the strategy rules, and the audit event
of a policy changed by a platform admin."""

from typing import Any

from approvals.errors import NoPolicy
from approvals.models import ApprovalPolicy, Environment, RequestKind, Strategy
from audit.services import audit_record
from models_registry.models import RegisteredModel


def policy_snapshot(policy: ApprovalPolicy) -> dict[str, Any]:
    """The policy as it is copied onto a request and recorded in the audit log."""
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
        "prompt_gate_items": list(policy.prompt_gate_items),
        "llm_regression_tolerance": policy.llm_regression_tolerance,
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


def strategy_errors(
    kind: str, strategy: str, traffic_percent: int
) -> dict[str, list[str]]:
    """Field errors of a request's kind, strategy and traffic share (the
    submit service's rules; the browser form shows them all at once)."""
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


def policy_change_record(
    *, actor, policy: ApprovalPolicy, before: dict[str, Any]
) -> None:
    """Audit an approval policy changed by a platform admin (called by the admin
    inside its transaction, after saving)."""
    after = policy_snapshot(policy)
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
