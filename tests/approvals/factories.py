"""Approval rows written straight to the database, for testing what the services
call (notifications, webhooks, tasks) without going through the services.

Plain on purpose: no gates evaluated, no permission checks, no audit events, no
notifications. Registry records come from ``tests.models_registry.factories``.
"""

from datetime import timedelta

from django.utils import timezone

from approvals.models import (
    Decision,
    Deployment,
    DeploymentRequest,
    DeploymentStatus,
    Environment,
    RequestStatus,
    WebhookEndpoint,
)

GATES = [
    {
        "id": "offline_metrics_met",
        "title": "Test metrics meet the offline success metrics",
        "status": "pass",
        "reason": "auc 0.81 ≥ 0.75.",
    },
    {
        "id": "independent_validation",
        "title": "Independent validation passed, no open high-severity findings",
        "status": "fail",
        "reason": "No validation report by a validator independent of the version.",
    },
    {
        "id": "promotion_order",
        "title": "Deployed to the previous environment first",
        "status": "not_applicable",
        "reason": "staging is the first environment.",
    },
]


def environment(name: str = "production") -> Environment:
    return Environment.objects.get(name=name)


def make_request(
    *,
    version,
    requested_by,
    environment_name: str = "production",
    strategy: str = "canary",
    traffic_percent: int = 10,
    status: str = RequestStatus.PENDING,
    gate_results: list | None = None,
    **extra,
) -> DeploymentRequest:
    now = timezone.now()
    values = {
        "kind": "deploy",
        "justification": "Better AUC on 2024 data.",
        "created_at": now,
        "expires_at": now + timedelta(days=7),
        "closed_at": None if status == RequestStatus.PENDING else now,
    }
    values.update(extra)
    return DeploymentRequest.objects.create(
        version=version,
        environment=environment(environment_name),
        strategy=strategy,
        traffic_percent=traffic_percent,
        status=status,
        gate_results=GATES if gate_results is None else gate_results,
        requested_by=requested_by,
        **values,
    )


def make_decision(
    *, request, reviewer, outcome="approve", role="reviewer", comment=""
) -> Decision:
    return Decision.objects.create(
        request=request, reviewer=reviewer, outcome=outcome, role=role, comment=comment
    )


def make_deployment(
    *,
    version,
    deployed_by,
    environment_name: str = "production",
    strategy: str = "full",
    traffic_percent: int = 100,
    request=None,
    rollback_target=None,
    **extra,
) -> Deployment:
    return Deployment.objects.create(
        model=version.model,
        version=version,
        environment=environment(environment_name),
        artifact=version.artifact,
        artifact_sha256=version.artifact.sha256,
        strategy=strategy,
        traffic_percent=traffic_percent,
        request=request,
        rollback_target=rollback_target,
        deployed_by=deployed_by,
        **extra,
    )


def end_deployment(deployment: Deployment, *, status: str, by, reason: str = ""):
    deployment.status = status
    deployment.ended_at = timezone.now()
    deployment.ended_by = by
    deployment.end_reason = reason
    deployment.save()
    return deployment


def rolled_back(deployment: Deployment, *, by, reason: str) -> Deployment:
    return end_deployment(
        deployment, status=DeploymentStatus.ROLLED_BACK, by=by, reason=reason
    )


def make_endpoint(
    *,
    url: str,
    events=(),
    secret="whsec-test-secret",  # noqa: S107 (a test fixture's secret)
    name="ci",
    is_active=True,
) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        name=name, url=url, secret=secret, events=list(events), is_active=is_active
    )
