"""The records of a lineage graph, one loader per kind of record.

Each loader reads through the owning app's selector (or limits by the registry's
``access``), so the graph holds nothing the actor's other pages hide. Each runs
one query (runs: two, with their inputs; snapshots: three, with the recursive
derivation walk and the visibility check), whatever the number of records.
By default a record is loaded with only what the graph shows; with ``details``
every field and the people behind it (for the lineage report).
"""

from dataclasses import dataclass

from django.db.models import Prefetch

from approvals.models import Decision, Deployment, DeploymentRequest
from approvals.selectors import deployment_list, request_list
from models_registry import selectors
from models_registry.models import (
    Artifact,
    DatasetSnapshot,
    Evaluation,
    ModelVersion,
    RegisteredModel,
    TrainingRun,
    TrainingRunInput,
)
from portal.lineage.derivations import (
    derivation_edges,
    longest_depths,
    visible_snapshot_ids,
)


@dataclass(frozen=True)
class Scope:
    """What a graph is of: a model, or one of its versions, as ``actor`` sees it."""

    actor: object
    model: RegisteredModel
    version: ModelVersion | None
    details: bool


@dataclass(frozen=True)
class Snapshots:
    """The snapshots of a graph: those used directly and all their ancestors."""

    ids: set[int]
    records: dict[int, DatasetSnapshot]
    visible: set[int]
    depths: dict[int, int]
    # (child, parent) pairs.
    derivations: list[tuple[int, int]]


def load_versions(scope: Scope) -> list[ModelVersion]:
    versions = selectors.version_list(actor=scope.actor, model=scope.model)
    if scope.version is not None:
        versions = versions.filter(pk=scope.version.pk)
    if not scope.details:
        versions = versions.select_related(None).only(
            "id",
            "model_id",
            "version",
            "semantic_version",
            "status",
            "artifact_id",
            "training_run_id",
        )
    return list(versions.order_by("-version"))


def load_artifacts(scope: Scope) -> list[Artifact]:
    artifacts = Artifact.objects.filter(model=scope.model)
    if scope.version is not None:
        artifacts = artifacts.filter(pk=scope.version.artifact_id)
    if not scope.details:
        artifacts = artifacts.only(
            "id",
            "model_id",
            "sha256",
            "format",
            "preprocessing_code_version",
            "training_run_id",
            "created_at",
        )
    return list(artifacts.order_by("-created_at", "-pk"))


def load_runs(
    scope: Scope, *, versions: list[ModelVersion], artifacts: list[Artifact]
) -> list[TrainingRun]:
    """The model's runs (for one version: the runs its version and artifact
    name), with their inputs."""
    run_ids = {each.training_run_id for each in versions if each.training_run_id} | {
        each.training_run_id for each in artifacts if each.training_run_id
    }
    runs = (
        selectors.run_list(actor=scope.actor, model=scope.model)
        .select_related(None)
        .prefetch_related(None)
        .prefetch_related(
            Prefetch(
                "run_inputs",
                queryset=TrainingRunInput.objects.only(
                    "id", "run_id", "snapshot_id", "role"
                ),
            )
        )
    )
    if scope.version is not None:
        runs = runs.filter(pk__in=run_ids)
    if not scope.details:
        runs = runs.only(
            "id", "model_id", "external_run_id", "code_commit", "created_at"
        )
    return list(runs)


def load_evaluations(scope: Scope, *, versions: list[ModelVersion]) -> list[Evaluation]:
    evaluations = Evaluation.objects.filter(
        version__pk__in=[each.pk for each in versions]
    ).order_by("version_id", "split", "-created_at", "-pk")
    if scope.details:
        evaluations = evaluations.select_related("created_by")
    else:
        evaluations = evaluations.only(
            "id", "version_id", "split", "dataset_id", "metrics", "created_at"
        )
    return list(evaluations)


def load_snapshots(
    scope: Scope, *, runs: list[TrainingRun], evaluations: list[Evaluation]
) -> Snapshots:
    """The snapshots the runs and evaluations used, and every ancestor of them
    (three queries: the derivation walk, the records, which the actor sees)."""
    seeds = {
        run_input.snapshot_id for run in runs for run_input in run.run_inputs.all()
    } | {evaluation.dataset_id for evaluation in evaluations}
    derivations = derivation_edges(seeds, towards="parents")
    snapshot_ids = seeds | {pk for pair in derivations for pk in pair}
    snapshots = DatasetSnapshot.objects.filter(pk__in=snapshot_ids).order_by(
        "name", "pk"
    )
    if scope.details:
        snapshots = snapshots.select_related("team", "created_by")
    else:
        snapshots = snapshots.only("id", "name", "sha256", "row_count", "created_at")
    records = {snapshot.pk: snapshot for snapshot in snapshots}
    visible = visible_snapshot_ids(scope.actor, snapshot_ids)
    return Snapshots(
        ids=snapshot_ids,
        records=records,
        visible=visible,
        depths=longest_depths(seeds, derivations),
        derivations=derivations,
    )


def load_requests(scope: Scope) -> list[DeploymentRequest]:
    requests = request_list(actor=scope.actor, filters={"model": scope.model.name})
    if scope.version is not None:
        requests = requests.filter(version=scope.version)
    if not scope.details:
        requests = (
            requests.select_related(None)
            .select_related("version", "environment")
            .only(
                "id",
                "version_id",
                "environment_id",
                "status",
                "strategy",
                "created_at",
                "version__id",
                "version__version",
                "environment__id",
                "environment__name",
            )
        )
    return list(requests.order_by("created_at", "pk"))


def load_decisions(
    scope: Scope, *, requests: list[DeploymentRequest]
) -> list[Decision]:
    decisions = (
        Decision.objects.filter(request__in=[each.pk for each in requests])
        .select_related("reviewer")
        .order_by("request_id", "created_at", "pk")
    )
    if not scope.details:
        decisions = decisions.only(
            "id",
            "request_id",
            "outcome",
            "role",
            "created_at",
            "reviewer__id",
            "reviewer__username",
        )
    return list(decisions)


def load_deployments(scope: Scope) -> list[Deployment]:
    deployments = deployment_list(actor=scope.actor, model=scope.model)
    if scope.version is not None:
        deployments = deployments.filter(version=scope.version)
    if not scope.details:
        deployments = (
            deployments.select_related(None)
            .select_related("version", "environment")
            .only(
                "id",
                "model_id",
                "version_id",
                "environment_id",
                "status",
                "strategy",
                "traffic_percent",
                "request_id",
                "rollback_target_id",
                "restores_id",
                "started_at",
                "ended_at",
                "version__id",
                "version__version",
                "environment__id",
                "environment__name",
            )
        )
    return list(deployments.order_by("started_at", "pk"))
