"""Impact analysis: everything downstream of one dataset snapshot.

The lineage graph walks upstream from a model; this walks the other way, from a
snapshot found to hold bad or unlawfully kept data: every snapshot derived from
it, and every run, version and live deployment downstream of them. Nine queries
whatever the derivation depth (the derivations in one recursive query).
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from approvals.models import Deployment, DeploymentStatus
from models_registry import access, selectors
from models_registry.models import (
    DatasetSnapshot,
    Evaluation,
    ModelVersion,
    RegisteredModel,
    TrainingRun,
    TrainingRunInput,
)
from portal.lineage.derivations import (
    derivation_edges,
    shortest_depths,
    visible_snapshot_ids,
)


@dataclass(frozen=True)
class ImpactedSnapshot:
    snapshot: DatasetSnapshot
    # Derivation steps from the analysed snapshot (0 for the snapshot itself).
    depth: int
    parent_ids: list[int]


@dataclass(frozen=True)
class ImpactedRun:
    run: TrainingRun
    # (snapshot id, role) pairs through which the run is downstream.
    inputs: list[tuple[int, str]]


@dataclass(frozen=True)
class ImpactedVersion:
    version: ModelVersion
    trained_by: list[int]  # impacted run ids that trained it
    evaluated_on: list[tuple[int, str]]  # (impacted snapshot id, split)


@dataclass(frozen=True)
class Impact:
    snapshot: DatasetSnapshot
    snapshots: list[ImpactedSnapshot]
    runs: list[ImpactedRun]
    versions: list[ImpactedVersion]
    # Active deployments of impacted versions (what serves traffic now).
    deployments: list[Deployment]
    # Records downstream that the actor may not see, counted but not named.
    hidden: dict[str, int]

    @property
    def deployed_models(self) -> list[RegisteredModel]:
        models = {each.model_id: each.model for each in self.deployments}
        return sorted(models.values(), key=lambda model: model.name)

    @property
    def descendants(self) -> list[ImpactedSnapshot]:
        return [each for each in self.snapshots if each.depth > 0]


@dataclass(frozen=True)
class _Downstream:
    """Every record downstream of the snapshot, before visibility is applied."""

    depths: dict[int, int]
    parents: dict[int, list[int]]
    snapshots: dict[int, DatasetSnapshot]
    visible_snapshots: set[int]
    run_inputs: list[TrainingRunInput]
    # (version id, snapshot id, split) of evaluations on impacted snapshots.
    evaluations: list[tuple[int, int, str]]
    run_ids: set[int]
    versions: list[ModelVersion]
    visible_models: set[int]
    deployments: list[Deployment]


def _load_downstream(actor, snapshot: DatasetSnapshot) -> _Downstream:
    edges = derivation_edges({snapshot.pk}, towards="children")
    depths = shortest_depths(snapshot.pk, edges)
    ids = set(depths)
    parents: dict[int, list[int]] = defaultdict(list)
    for child, parent in edges:
        if child in ids and parent in ids:
            parents[child].append(parent)
    records = {
        each.pk: each
        for each in DatasetSnapshot.objects.filter(pk__in=ids).select_related("team")
    }
    visible_snapshots = visible_snapshot_ids(actor, ids)

    run_inputs = list(
        TrainingRunInput.objects.filter(snapshot_id__in=ids)
        .select_related("run", "run__model")
        .order_by("run__created_at", "run_id", "role", "snapshot_id")
    )
    evaluations = list(
        Evaluation.objects.filter(dataset_id__in=ids)
        .values_list("version_id", "dataset_id", "split")
        .order_by("version_id", "dataset_id", "split")
    )
    run_ids = {each.run_id for each in run_inputs}
    versions = list(
        ModelVersion.objects.filter(
            Q(training_run_id__in=run_ids)
            | Q(artifact__training_run_id__in=run_ids)
            | Q(pk__in={version_id for version_id, _, _ in evaluations})
        )
        .select_related("model", "model__team", "artifact", "training_run")
        .order_by("model__name", "-version")
    )
    model_ids = {each.run.model_id for each in run_inputs} | {
        each.model_id for each in versions
    }
    visible_models = set(
        access.models_for(actor).filter(pk__in=model_ids).values_list("pk", flat=True)
    )
    deployments = list(
        Deployment.objects.filter(
            version__in=[each.pk for each in versions],
            status=DeploymentStatus.ACTIVE,
        )
        .select_related("model", "version", "environment")
        .order_by("model__name", "environment__order", "pk")
    )
    return _Downstream(
        depths=depths,
        parents=parents,
        snapshots=records,
        visible_snapshots=visible_snapshots,
        run_inputs=run_inputs,
        evaluations=evaluations,
        run_ids=run_ids,
        versions=versions,
        visible_models=visible_models,
        deployments=deployments,
    )


def _impacted_snapshots(
    found: _Downstream, hidden: dict[str, int]
) -> list[ImpactedSnapshot]:
    """Nearest first; the actor's invisible ones only counted."""
    depths, records = found.depths, found.snapshots
    snapshots = []
    for pk in sorted(depths, key=lambda pk: (depths[pk], records[pk].name, pk)):
        if pk not in found.visible_snapshots:
            hidden["snapshots"] += 1
            continue
        snapshots.append(
            ImpactedSnapshot(
                snapshot=records[pk],
                depth=depths[pk],
                parent_ids=sorted(found.parents.get(pk, [])),
            )
        )
    return snapshots


def _impacted_runs(found: _Downstream, hidden: dict[str, int]) -> list[ImpactedRun]:
    by_run: dict[int, ImpactedRun] = {}
    for run_input in found.run_inputs:
        run = run_input.run
        if run.pk not in by_run:
            by_run[run.pk] = ImpactedRun(run=run, inputs=[])
        by_run[run.pk].inputs.append((run_input.snapshot_id, run_input.role))
    runs = []
    for impacted in by_run.values():
        if impacted.run.model_id in found.visible_models:
            runs.append(impacted)
        else:
            hidden["runs"] += 1
    return runs


def _impacted_versions(
    found: _Downstream, hidden: dict[str, int]
) -> list[ImpactedVersion]:
    evaluated: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for version_id, dataset_id, split in found.evaluations:
        evaluated[version_id].append((dataset_id, split))
    impacted_versions = []
    for each in found.versions:
        if each.model_id not in found.visible_models:
            hidden["versions"] += 1
            continue
        trained_by = sorted(
            found.run_ids & {each.training_run_id, each.artifact.training_run_id}
        )
        impacted_versions.append(
            ImpactedVersion(
                version=each,
                trained_by=trained_by,
                evaluated_on=evaluated.get(each.pk, []),
            )
        )
    return impacted_versions


def _live_deployments(found: _Downstream, hidden: dict[str, int]) -> list[Deployment]:
    live = []
    for deployment in found.deployments:
        if deployment.model_id in found.visible_models:
            live.append(deployment)
        else:
            hidden["deployments"] += 1
    return live


def impact_of_snapshot(*, actor, snapshot: DatasetSnapshot) -> Impact:
    """Everything downstream of a snapshot: the snapshots derived from it at any
    depth, the runs that used any of them, the versions those runs trained or
    that were evaluated on them, and the active deployments of those versions.

    Raises ``DatasetNotFound`` if the actor may not see the snapshot. What lies
    downstream in models the actor may not see is counted in ``hidden`` and not
    named. Nine queries, whatever the depth.
    """
    snapshot = selectors.dataset_get(actor=actor, id=snapshot.pk)
    found = _load_downstream(actor, snapshot)
    hidden = {"snapshots": 0, "runs": 0, "versions": 0, "deployments": 0}
    return Impact(
        snapshot=snapshot,
        snapshots=_impacted_snapshots(found, hidden),
        runs=_impacted_runs(found, hidden),
        versions=_impacted_versions(found, hidden),
        deployments=_live_deployments(found, hidden),
        hidden=hidden,
    )
