"""The gates a deployment request must pass, computed from the records.

Gates are evaluated when a request is submitted (and stored on it, so reviewers
see exactly what was checked) and again at the final approval, where a failing
gate blocks the deployment with its reason.
"""

from typing import Any

from approvals.models import (
    ApprovalPolicy,
    Deployment,
    DeploymentStatus,
    Environment,
    Finding,
    FindingStatus,
    RequestKind,
    Severity,
    Strategy,
    ValidationOutcome,
    ValidationReport,
)
from approvals.prompt_gates import (
    MODEL_ONLY_ITEMS,
    is_prompt,
    not_for_prompts,
    prompt_gates,
)
from kernel.guards import is_digits
from models_registry.checklist import FAIL, NOT_APPLICABLE, PASS
from models_registry.models import Evaluation, ModelVersion, Split
from models_registry.selectors import checklist_of

INDEPENDENT_VALIDATION = "independent_validation"
BLOCKING_SEVERITIES = (Severity.HIGH, Severity.CRITICAL)


def _gate(gate_id: str, title: str, status: str, reason: str) -> dict[str, Any]:
    return {"id": gate_id, "title": title, "status": status, "reason": reason}


def version_authors(version: ModelVersion) -> set[int]:
    """Who built the version (registered it or recorded its training run): they
    may neither validate it nor decide its deployment requests (the one
    definition of a version's authors, ``approvals.access``)."""
    author_ids = {version.registered_by_id}
    if version.training_run_id:
        author_ids.add(version.training_run.created_by_id)
    return author_ids


def _independent_validation(version: ModelVersion) -> dict[str, Any]:
    title = "Independent validation passed, no open high-severity findings"
    author_ids = version_authors(version)
    reports = [
        report
        for report in ValidationReport.objects.filter(version=version).select_related(
            "validator"
        )
        if report.validator_id not in author_ids
    ]
    if not reports:
        return _gate(
            INDEPENDENT_VALIDATION,
            title,
            FAIL,
            "No validation report by a validator independent of the version.",
        )
    latest = reports[0]
    if latest.outcome == ValidationOutcome.FAILED:
        return _gate(
            INDEPENDENT_VALIDATION,
            title,
            FAIL,
            f"The latest validation by {latest.validator.get_username()} failed.",
        )
    open_blocking = list(
        Finding.objects.filter(
            report__version=version,
            status=FindingStatus.OPEN,
            severity__in=BLOCKING_SEVERITIES,
        ).values_list("severity", "title")
    )
    if open_blocking:
        listed = "; ".join(f"{severity}: {text}" for severity, text in open_blocking)
        return _gate(INDEPENDENT_VALIDATION, title, FAIL, f"Open findings: {listed}.")
    return _gate(
        INDEPENDENT_VALIDATION,
        title,
        PASS,
        f"Validated by {latest.validator.get_username()} "
        f"({latest.get_outcome_display().lower()}).",
    )


def _previous_environment(version: ModelVersion, environment: Environment):
    title = "Deployed to the previous environment first"
    previous = (
        Environment.objects.filter(order__lt=environment.order)
        .order_by("-order")
        .first()
    )
    if previous is None:
        return _gate(
            "promotion_order",
            title,
            NOT_APPLICABLE,
            f"{environment.title} is the first environment.",
        )
    if Deployment.objects.filter(version=version, environment=previous).exists():
        return _gate(
            "promotion_order",
            title,
            PASS,
            f"v{version.version} has run in {previous.title}.",
        )
    return _gate(
        "promotion_order",
        title,
        FAIL,
        f"v{version.version} has never been deployed to {previous.title}.",
    )


def _staged_rollout(version, environment, policy, strategy, kind):
    title = "Shadow or canary before full traffic"
    if kind == RequestKind.PROMOTE:
        has_canary = Deployment.objects.filter(
            version=version,
            environment=environment,
            strategy=Strategy.CANARY,
            status=DeploymentStatus.ACTIVE,
        ).exists()
        if has_canary:
            return _gate(
                "staged_rollout", title, PASS, "A canary of this version is live."
            )
        return _gate(
            "staged_rollout",
            title,
            FAIL,
            "Promotion needs a live canary of this version.",
        )
    if not policy.requires_staged_rollout or strategy != Strategy.FULL:
        return _gate(
            "staged_rollout",
            title,
            NOT_APPLICABLE,
            "The policy does not require it for this strategy.",
        )
    staged = Deployment.objects.filter(
        version=version,
        environment=environment,
        strategy__in=[Strategy.SHADOW, Strategy.CANARY],
    ).exists()
    if staged:
        return _gate(
            "staged_rollout", title, PASS, "This version has run as shadow or canary."
        )
    return _gate(
        "staged_rollout",
        title,
        FAIL,
        f"Policy: in {environment}, run as shadow or canary before full traffic.",
    )


def _test_metrics(version_ids) -> dict[int, dict]:
    latest: dict[int, dict] = {}
    for evaluation in Evaluation.objects.filter(
        version_id__in=version_ids, split=Split.TEST
    ).order_by("created_at", "pk"):
        latest[evaluation.version_id] = evaluation.metrics
    return latest


def _major(semantic_version: str) -> int | None:
    head = semantic_version.split(".", 1)[0]
    return int(head) if is_digits(head) else None


def _big_change(version, environment, policy, strategy):
    title = "Big changes go out as an A/B test"
    if not policy.big_change_requires_ab:
        return _gate(
            "big_change_ab", title, NOT_APPLICABLE, "Not required by the policy."
        )
    live = (
        Deployment.objects.filter(
            model_id=version.model_id,
            environment=environment,
            strategy=Strategy.FULL,
            status=DeploymentStatus.ACTIVE,
        )
        .select_related("version")
        .first()
    )
    if live is None or live.version_id == version.pk:
        return _gate(
            "big_change_ab", title, NOT_APPLICABLE, "No other version is live here."
        )
    reasons = []
    new_major, live_major = (
        _major(version.semantic_version),
        _major(live.version.semantic_version),
    )
    if new_major is not None and live_major is not None and new_major > live_major:
        reasons.append(f"new major version {new_major} (live: {live_major})")
    metrics = _test_metrics([version.pk, live.version_id])
    new, old = metrics.get(version.pk, {}), metrics.get(live.version_id, {})
    for target in version.model.offline_success_metrics:
        name = target["metric"]
        if name in new and name in old:
            worse = (
                new[name] < old[name]
                if target["direction"] == "higher"
                else new[name] > old[name]
            )
            if worse:
                reasons.append(f"{name} {new[name]:g} is worse than live {old[name]:g}")
    if not reasons:
        return _gate(
            "big_change_ab",
            title,
            PASS,
            f"A small change from live v{live.version.version}.",
        )
    if strategy in (Strategy.AB, Strategy.SHADOW):
        return _gate(
            "big_change_ab",
            title,
            PASS,
            f"Big change ({'; '.join(reasons)}), going out as {strategy}.",
        )
    return _gate(
        "big_change_ab",
        title,
        FAIL,
        f"Big change ({'; '.join(reasons)}): use an A/B test.",
    )


def evaluate_gates(
    *,
    version: ModelVersion,
    environment: Environment,
    policy: ApprovalPolicy,
    strategy: str,
    kind: str,
) -> list[dict[str, Any]]:
    """Every gate with its status and reason; a gate fails with status "fail"."""
    gates = []
    if kind != RequestKind.RETRAIN:
        prompt = is_prompt(version)
        checklist = {item.id: item for item in checklist_of(version)}
        for item_id in policy.gate_items:
            if item_id == INDEPENDENT_VALIDATION:
                gates.append(_independent_validation(version))
            elif item_id in checklist:
                item = checklist[item_id]
                if prompt and item_id in MODEL_ONLY_ITEMS:
                    gates.append(not_for_prompts(item.id, item.title))
                else:
                    gates.append(_gate(item.id, item.title, item.status, item.reason))
        if prompt:
            gates.extend(
                prompt_gates(version=version, environment=environment, policy=policy)
            )
        gates.append(_previous_environment(version, environment))
        gates.append(_staged_rollout(version, environment, policy, strategy, kind))
        gates.append(_big_change(version, environment, policy, strategy))
    return gates


def failing(gates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [gate for gate in gates if gate["status"] == FAIL]
