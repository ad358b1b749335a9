"""Reads of approvals and deployments, limited to what the actor may see, in a
fixed number of queries."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from approvals import access as approvals_access
from approvals.errors import DeploymentNotFound, EnvironmentNotFound, RequestNotFound
from approvals.models import (
    Decision,
    Deployment,
    DeploymentRequest,
    DeploymentStatus,
    Environment,
    Outcome,
    RequestStatus,
    Strategy,
    ValidationReport,
)
from models_registry import access
from models_registry.checklist import FAIL
from models_registry.models import Evaluation, ModelCard, RegisteredModel, Split
from models_registry.selectors import model_get


def environment_get(*, name: str) -> Environment:
    environment = Environment.objects.filter(name=name).first()
    if environment is None:
        raise EnvironmentNotFound(f"No environment named “{name}”.")
    return environment


def _requests_base() -> QuerySet:
    return DeploymentRequest.objects.select_related(
        "version",
        "version__model",
        "version__model__team",
        "version__artifact",
        "version__registered_by",
        "version__training_run",
        "environment",
        "requested_by",
    )


def request_list(*, actor, filters: dict[str, Any] | None = None) -> QuerySet:
    filters = filters or {}
    requests = _requests_base().filter(
        version__model__in=access.models_for(actor).values("pk")
    )
    if filters.get("status"):
        # As read now: "pending" leaves out, "expired" takes in, requests whose
        # window has ended before the sweep closed them.
        requests = requests.with_current_status(filters["status"])
    if filters.get("model"):
        requests = requests.filter(version__model__name=filters["model"])
    if filters.get("environment"):
        requests = requests.filter(environment__name=filters["environment"])
    return requests.order_by("-created_at", "-pk")


def request_queue(*, actor) -> list[DeploymentRequest]:
    """Pending requests the actor may decide now (``approvals.access``'s decide
    rule as a query): they review the model, did not ask for it nor build the
    version (register it or record its run), and have not decided it yet.
    Oldest first, each annotated with ``failing_gates`` and ``age``."""
    if not approvals_access.holds_approving_role(actor):
        return []
    decided = Decision.objects.filter(request=OuterRef("pk"), reviewer=actor)
    now = timezone.now()
    requests = (
        _requests_base()
        .pending(now=now)
        .filter(
            version__model__in=approvals_access.reviewed_models(actor).values("pk"),
        )
        .exclude(requested_by=actor)
        .exclude(version__registered_by=actor)
        .exclude(version__training_run__created_by=actor)
        .exclude(Exists(decided))
        .prefetch_related(
            Prefetch("decisions", queryset=Decision.objects.select_related("reviewer"))
        )
        .order_by("created_at", "pk")
    )
    queue = list(requests)
    for request in queue:
        request.failing_gates = [g for g in request.gate_results if g["status"] == FAIL]
        request.age = now - request.created_at
        request.approval_count = sum(
            1
            for decision in request.decisions.all()
            if decision.outcome == Outcome.APPROVE
        )
    return queue


@dataclass(frozen=True)
class MetricComparison:
    name: str
    candidate: float | None
    live: float | None
    delta: float | None
    direction: str | None


@dataclass(frozen=True)
class RequestDetail:
    request: DeploymentRequest
    decisions: list[Decision]
    card: ModelCard | None
    live: Deployment | None
    metrics: list[MetricComparison]
    test_evaluation: Evaluation | None
    validation_reports: list[ValidationReport]
    can_decide: bool
    can_cancel: bool
    approvals: int


def request_get(*, actor, id: int) -> DeploymentRequest:
    request = _requests_base().filter(pk=id).first()
    if request is None or not access.has_model_permission(
        actor, request.version.model, access.VIEW
    ):
        raise RequestNotFound("No such request.")
    return request


def _latest_test(version_ids) -> dict[int, Evaluation]:
    latest: dict[int, Evaluation] = {}
    evaluations = (
        Evaluation.objects.filter(version_id__in=version_ids, split=Split.TEST)
        .prefetch_related("slices")
        .order_by("created_at", "pk")
    )
    for evaluation in evaluations:
        latest[evaluation.version_id] = evaluation
    return latest


def request_detail(*, actor, id: int) -> RequestDetail:
    """Everything a reviewer reads before deciding, in a fixed number of queries."""
    request = request_get(actor=actor, id=id)
    version = request.version
    model = version.model
    decisions = list(
        Decision.objects.filter(request=request)
        .select_related("reviewer")
        .order_by("pk")
    )
    live = (
        Deployment.objects.filter(
            model=model,
            environment=request.environment,
            status=DeploymentStatus.ACTIVE,
            strategy=Strategy.FULL,
        )
        .select_related("version")
        .first()
    )
    evaluations = _latest_test([version.pk] + ([live.version_id] if live else []))
    candidate = evaluations.get(version.pk)
    current = evaluations.get(live.version_id) if live else None
    directions = {m["metric"]: m["direction"] for m in model.offline_success_metrics}
    names = sorted(
        set(candidate.metrics if candidate else {})
        | set(current.metrics if current else {})
    )
    metrics = []
    for name in names:
        new = candidate.metrics.get(name) if candidate else None
        old = current.metrics.get(name) if current else None
        metrics.append(
            MetricComparison(
                name=name,
                candidate=new,
                live=old,
                delta=(new - old) if new is not None and old is not None else None,
                direction=directions.get(name),
            )
        )
    reports = list(
        ValidationReport.objects.filter(version=version)
        .select_related("validator")
        .prefetch_related("findings__owner")
    )
    is_open = request.current_status == RequestStatus.PENDING
    can_decide = approvals_access.may_decide(actor, request, decisions=decisions)
    return RequestDetail(
        request=request,
        decisions=decisions,
        card=ModelCard.objects.filter(version=version).first(),
        live=live,
        metrics=metrics,
        test_evaluation=candidate,
        validation_reports=reports,
        can_decide=can_decide,
        can_cancel=is_open and approvals_access.may_cancel(actor, request),
        approvals=sum(1 for d in decisions if d.outcome == Outcome.APPROVE),
    )


def _deployments_base() -> QuerySet:
    return Deployment.objects.select_related(
        "model",
        "version",
        "artifact",
        "environment",
        "request",
        "deployed_by",
        "ended_by",
        "rollback_target",
        "rollback_target__version",
        "restores",
        "restores__version",
    )


def deployment_list(
    *,
    actor,
    model: RegisteredModel | None = None,
    environment: Environment | None = None,
) -> QuerySet:
    deployments = _deployments_base().filter(
        model__in=access.models_for(actor).values("pk")
    )
    if model is not None:
        deployments = deployments.filter(model=model)
    if environment is not None:
        deployments = deployments.filter(environment=environment)
    return deployments.order_by("-started_at", "-pk")


def deployment_get(*, actor, id: int) -> Deployment:
    deployment = _deployments_base().filter(pk=id).first()
    if deployment is None or not access.has_model_permission(
        actor, deployment.model, access.VIEW
    ):
        raise DeploymentNotFound("No such deployment.")
    return deployment


def live_at(
    *, actor, model_name: str, environment_name: str, at: datetime | None = None
) -> tuple[RegisteredModel, Environment, list[Deployment], str]:
    """What is (or was, at ``at``) live for a model in an environment, with an
    ETag that changes whenever that answer changes."""
    model = model_get(actor=actor, name=model_name)
    environment = environment_get(name=environment_name)
    deployments = _deployments_base().filter(model=model, environment=environment)
    if at is None:
        deployments = deployments.filter(status=DeploymentStatus.ACTIVE)
    else:
        deployments = deployments.filter(started_at__lte=at).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=at)
        )
    live = list(deployments.order_by("strategy", "pk"))
    fingerprint = ";".join(
        f"{d.pk}:{d.status}:{d.strategy}:{d.traffic_percent}:{d.artifact_sha256}"
        for d in live
    )
    etag = hashlib.sha256(
        f"{model.pk}|{environment.pk}|{at}|{fingerprint}".encode()
    ).hexdigest()[:32]
    return model, environment, live, f'"{etag}"'


def deployment_timeline(
    *, actor, model: RegisteredModel
) -> dict[Environment, list[Deployment]]:
    """Every deployment of a model, newest first, per environment in order."""
    deployments = list(deployment_list(actor=actor, model=model))
    timeline: dict[Environment, list[Deployment]] = {
        environment: [] for environment in Environment.objects.order_by("order")
    }
    by_id = {environment.pk: environment for environment in timeline}
    for deployment in deployments:
        timeline[by_id[deployment.environment_id]].append(deployment)
    return timeline


# --- Live deployments, for the apps above approvals (monitoring) ---------------------


def deployment_live_list(
    *,
    model: RegisteredModel | None = None,
    environment: Environment | None = None,
    model_name: str | None = None,
    environment_name: str | None = None,
    version_ids: list[int] | None = None,
) -> QuerySet:
    """Active deployments, oldest first, with their model, version (and its
    artifact) and environment.

    No permission filter: callers pass a model (or versions) they have already
    resolved for the actor, or run without one (the demo data).
    """
    deployments = Deployment.objects.filter(status=DeploymentStatus.ACTIVE)
    if model is not None:
        deployments = deployments.filter(model=model)
    if environment is not None:
        deployments = deployments.filter(environment=environment)
    if model_name is not None:
        deployments = deployments.filter(model__name=model_name)
    if environment_name is not None:
        deployments = deployments.filter(environment__name=environment_name)
    if version_ids is not None:
        deployments = deployments.filter(version_id__in=version_ids)
    return deployments.select_related(
        "model", "version__artifact", "environment"
    ).order_by("started_at", "pk")


def deployment_live_for(*, version_id: int, environment_id: int) -> Deployment | None:
    """The newest active deployment of a version in an environment, if any."""
    return (
        Deployment.objects.filter(
            version_id=version_id,
            environment_id=environment_id,
            status=DeploymentStatus.ACTIVE,
        )
        .order_by("-started_at", "-pk")
        .first()
    )
