"""Lineage: where a model's versions come from, and what a dataset snapshot feeds.

``lineage_graph`` walks a model (or one version) from its dataset snapshots, and
the snapshots those were derived from at any depth, through training runs,
artifacts, versions and evaluations to approval requests, their decisions and
the deployments and rollbacks they led to. ``impact_of_snapshot`` walks the other
way: every snapshot derived from one, and every run, version and live
deployment downstream of them.

Both run a fixed number of queries whatever the depth: derivations are followed
by one recursive query (``WITH RECURSIVE`` over the ``parents`` through-table,
PostgreSQL and SQLite alike). Everything is read through the registry's and the
approvals' selectors or limited by ``access``, so the graph shows nothing that
the actor's other pages hide: a snapshot the actor may not see appears only as
a hidden node, so the shape of a derivation chain stays true without its
details.

Lineage reads the approvals tables: it is the one registry read that spans the
lifecycle (DESIGN.md places lineage in the registry). It only reads them.
"""

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q

from approvals.models import Decision, Deployment, DeploymentStatus
from approvals.selectors import deployment_list, request_list
from models_registry import access, selectors
from models_registry.errors import ModelNotFound
from models_registry.models import (
    Artifact,
    DatasetSnapshot,
    Evaluation,
    ModelVersion,
    RegisteredModel,
    TrainingRun,
    TrainingRunInput,
)

SNAPSHOT = "snapshot"
RUN = "run"
ARTIFACT = "artifact"
VERSION = "version"
EVALUATION = "evaluation"
REQUEST = "request"
DECISION = "decision"
DEPLOYMENT = "deployment"

# Left to right, the order the lineage page draws its columns in.
KINDS = (
    SNAPSHOT,
    RUN,
    ARTIFACT,
    VERSION,
    EVALUATION,
    REQUEST,
    DECISION,
    DEPLOYMENT,
)
KIND_LABELS = {
    SNAPSHOT: "Dataset snapshot",
    RUN: "Training run",
    ARTIFACT: "Artifact",
    VERSION: "Model version",
    EVALUATION: "Evaluation",
    REQUEST: "Approval request",
    DECISION: "Decision",
    DEPLOYMENT: "Deployment",
}

# Edge kinds: upstream record → downstream record.
DERIVED = "derived"  # parent snapshot → snapshot derived from it
INPUT = "input"  # snapshot → run (label: the role, e.g. "train")
PRODUCED = "produced"  # run → artifact
PACKAGED = "packaged"  # artifact → version
TRAINED = "trained"  # run → version, when the version names a run its artifact does not
EVALUATED = "evaluated"  # version → evaluation
EVALUATED_ON = "evaluated_on"  # snapshot → evaluation
REQUESTED = "requested"  # version → request
DECIDED = "decided"  # request → decision
DEPLOYED = "deployed"  # request (or version, for a restore) → deployment
REPLACED = "replaced"  # deployment → the deployment that replaced it
RESTORED = "restored"  # deployment → the rollback's deployment that restores it
ROLLED_BACK = "rolled_back"  # rolled-back deployment → the one the rollback started

EDGE_LABELS = {
    DERIVED: "derived into",
    INPUT: "input of",
    PRODUCED: "produced",
    PACKAGED: "packaged as",
    TRAINED: "trained",
    EVALUATED: "evaluated in",
    EVALUATED_ON: "evaluation data of",
    REQUESTED: "requested in",
    DECIDED: "decided by",
    DEPLOYED: "deployed as",
    REPLACED: "replaced by",
    RESTORED: "restored by",
    ROLLED_BACK: "rolled back to",
}


@dataclass
class LineageNode:
    kind: str
    pk: int
    label: str
    caption: str = ""
    # The record itself (None for a snapshot the actor may not see).
    obj: Any = None
    is_hidden: bool = False
    # Snapshots only: derivation steps from the snapshots used directly (0).
    depth: int = 0

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.pk}"


@dataclass(frozen=True)
class LineageEdge:
    source: str
    target: str
    kind: str
    label: str = ""


@dataclass
class LineageGraph:
    model: RegisteredModel
    version: ModelVersion | None
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    _index: dict[str, LineageNode] = field(default_factory=dict, repr=False)
    _in: dict[str, list[LineageEdge]] = field(default_factory=dict, repr=False)
    _out: dict[str, list[LineageEdge]] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._index = {node.key: node for node in self.nodes}
        self._in = defaultdict(list)
        self._out = defaultdict(list)
        for edge in self.edges:
            self._out[edge.source].append(edge)
            self._in[edge.target].append(edge)

    def node(self, key: str) -> LineageNode:
        return self._index[key]

    def of_kind(self, kind: str) -> list[LineageNode]:
        return [node for node in self.nodes if node.kind == kind]

    def upstream(self, key: str) -> list[tuple[LineageEdge, LineageNode]]:
        return [(edge, self._index[edge.source]) for edge in self._in.get(key, [])]

    def downstream(self, key: str) -> list[tuple[LineageEdge, LineageNode]]:
        return [(edge, self._index[edge.target]) for edge in self._out.get(key, [])]

    @property
    def max_depth(self) -> int:
        return max((node.depth for node in self.of_kind(SNAPSHOT)), default=0)


# --- Derivations: one recursive query --------------------------------------------


def _table_names() -> tuple[str, str, str, str]:
    quote = connection.ops.quote_name
    through = DatasetSnapshot.parents.through._meta
    return (
        quote(DatasetSnapshot._meta.db_table),
        quote(through.db_table),
        quote(through.get_field("from_datasetsnapshot").column),
        quote(through.get_field("to_datasetsnapshot").column),
    )


def _derivation_edges(seed_ids: set[int], *, towards: str) -> list[tuple[int, int]]:
    """(child, parent) pairs reachable from the seeds, in one recursive query.

    ``towards="parents"`` follows derivations upstream (every ancestor of the
    seeds), ``towards="children"`` downstream (every descendant). UNION, not
    UNION ALL: each snapshot enters the walk once, so diamonds cost nothing
    extra and even a cycle (which the services never make) would end.
    """
    if not seed_ids:
        return []
    snapshots, through, child, parent = _table_names()
    if towards == "parents":
        step_from, step_to = child, parent
    elif towards == "children":
        step_from, step_to = parent, child
    else:
        raise ValueError(f"towards must be 'parents' or 'children', not {towards!r}")
    seeds = sorted(seed_ids)
    placeholders = ", ".join(["%s"] * len(seeds))
    # Identifiers come from the models' metadata; values are parameters.
    sql = (
        f"WITH RECURSIVE walk(id) AS ("  # noqa: S608
        f" SELECT id FROM {snapshots} WHERE id IN ({placeholders})"
        f" UNION"
        f" SELECT link.{step_to} FROM {through} AS link"
        f" JOIN walk ON link.{step_from} = walk.id"
        f") SELECT {child}, {parent} FROM {through}"
        f" WHERE {step_from} IN (SELECT id FROM walk)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, seeds)
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _depths(seed_ids: set[int], edges: list[tuple[int, int]]) -> dict[int, int]:
    """Longest derivation distance of each snapshot from the seeds' side: a parent
    is always deeper than every child it has in the graph (so it is drawn to the
    left of all of them)."""
    children: dict[int, set[int]] = defaultdict(set)
    parents: dict[int, set[int]] = defaultdict(set)
    nodes = set(seed_ids)
    for child, parent in edges:
        children[parent].add(child)
        parents[child].add(parent)
        nodes.update((child, parent))
    # Kahn's order from the snapshots no other snapshot in the graph derives from.
    pending = {node: len(children[node]) for node in nodes}
    depth = dict.fromkeys(nodes, 0)
    queue = deque(node for node, count in pending.items() if count == 0)
    while queue:
        node = queue.popleft()
        for parent in parents[node]:
            depth[parent] = max(depth[parent], depth[node] + 1)
            pending[parent] -= 1
            if pending[parent] == 0:
                queue.append(parent)
    return depth


def _visible_snapshot_ids(actor, ids: set[int]) -> set[int]:
    return set(
        selectors.dataset_list(actor=actor)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )


def _snapshot_node(snapshot: DatasetSnapshot | None, pk: int, *, is_visible: bool):
    if snapshot is None or not is_visible:
        return LineageNode(
            kind=SNAPSHOT,
            pk=pk,
            label="Hidden snapshot",
            caption="you may not see it",
            is_hidden=True,
        )
    return LineageNode(
        kind=SNAPSHOT,
        pk=pk,
        label=snapshot.name,
        caption=f"{snapshot.sha256[:8]} · {snapshot.row_count:,} rows",
        obj=snapshot,
    )


# --- The graph --------------------------------------------------------------------


def _require_visible(actor, model: RegisteredModel) -> None:
    if not access.models_for(actor).filter(pk=model.pk).exists():
        raise ModelNotFound("No such model.")


def lineage_graph(
    *,
    actor,
    model: RegisteredModel | None = None,
    version: ModelVersion | None = None,
    details: bool = False,
) -> LineageGraph:
    """The lineage of a model, or of one of its versions, as nodes and edges.

    Give ``model`` for the whole model, or ``version`` for one version (its
    runs, snapshots and ancestors, evaluations, requests, decisions and
    deployments). Raises ``ModelNotFound`` if the actor may not see the model.
    Twelve queries at most, whatever the number of records or the derivation
    depth (plus the actor's permissions, loaded once per request).

    By default each record is loaded with only what the graph shows; with
    ``details`` every field and the people behind it (for the lineage report).
    """
    if version is not None:
        model = version.model
    if model is None:
        raise ValueError("give a model or a version")
    _require_visible(actor, model)

    versions = selectors.version_list(actor=actor, model=model)
    if version is not None:
        versions = versions.filter(pk=version.pk)
    if not details:
        versions = versions.select_related(None).only(
            "id",
            "model_id",
            "version",
            "semantic_version",
            "status",
            "artifact_id",
            "training_run_id",
        )
    versions = list(versions.order_by("-version"))
    version_ids = [each.pk for each in versions]

    artifacts = Artifact.objects.filter(model=model)
    if version is not None:
        artifacts = artifacts.filter(pk=version.artifact_id)
    if not details:
        artifacts = artifacts.only(
            "id",
            "model_id",
            "sha256",
            "format",
            "preprocessing_code_version",
            "training_run_id",
            "created_at",
        )
    artifacts = list(artifacts.order_by("-created_at", "-pk"))
    run_ids = {each.training_run_id for each in versions if each.training_run_id} | {
        each.training_run_id for each in artifacts if each.training_run_id
    }
    runs = (
        selectors.run_list(actor=actor, model=model)
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
    if version is not None:
        runs = runs.filter(pk__in=run_ids)
    if not details:
        runs = runs.only(
            "id", "model_id", "external_run_id", "code_commit", "created_at"
        )
    runs = list(runs)

    evaluations = Evaluation.objects.filter(version__pk__in=version_ids).order_by(
        "version_id", "split", "-created_at", "-pk"
    )
    if details:
        evaluations = evaluations.select_related("created_by")
    else:
        evaluations = evaluations.only(
            "id", "version_id", "split", "dataset_id", "metrics", "created_at"
        )
    evaluations = list(evaluations)

    seeds = {
        run_input.snapshot_id for run in runs for run_input in run.run_inputs.all()
    } | {evaluation.dataset_id for evaluation in evaluations}
    derivations = _derivation_edges(seeds, towards="parents")
    snapshot_ids = seeds | {pk for pair in derivations for pk in pair}
    snapshots = DatasetSnapshot.objects.filter(pk__in=snapshot_ids).order_by(
        "name", "pk"
    )
    if details:
        snapshots = snapshots.select_related("team", "created_by")
    else:
        snapshots = snapshots.only("id", "name", "sha256", "row_count", "created_at")
    snapshots = {snapshot.pk: snapshot for snapshot in snapshots}
    visible = _visible_snapshot_ids(actor, snapshot_ids)
    depths = _depths(seeds, derivations)

    requests = request_list(actor=actor, filters={"model": model.name})
    if version is not None:
        requests = requests.filter(version=version)
    if not details:
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
    requests = list(requests.order_by("created_at", "pk"))
    decisions = (
        Decision.objects.filter(request__in=[each.pk for each in requests])
        .select_related("reviewer")
        .order_by("request_id", "created_at", "pk")
    )
    if not details:
        decisions = decisions.only(
            "id",
            "request_id",
            "outcome",
            "role",
            "created_at",
            "reviewer__id",
            "reviewer__username",
        )
    decisions = list(decisions)
    deployments = deployment_list(actor=actor, model=model)
    if version is not None:
        deployments = deployments.filter(version=version)
    if not details:
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
    deployments = list(deployments.order_by("started_at", "pk"))

    nodes: list[LineageNode] = []
    edges: list[LineageEdge] = []
    for pk in sorted(
        snapshot_ids,
        key=lambda pk: (
            -depths.get(pk, 0),
            snapshots[pk].name if pk in snapshots else "",
            pk,
        ),
    ):
        node = _snapshot_node(snapshots.get(pk), pk, is_visible=pk in visible)
        node.depth = depths.get(pk, 0)
        nodes.append(node)
    for child, parent in sorted(derivations):
        edges.append(
            LineageEdge(f"{SNAPSHOT}-{parent}", f"{SNAPSHOT}-{child}", DERIVED)
        )

    for run in runs:
        nodes.append(
            LineageNode(
                kind=RUN,
                pk=run.pk,
                label=run.external_run_id,
                caption=f"commit {run.code_commit[:10]}",
                obj=run,
            )
        )
        for run_input in sorted(
            run.run_inputs.all(), key=lambda each: (each.role, each.snapshot_id)
        ):
            edges.append(
                LineageEdge(
                    f"{SNAPSHOT}-{run_input.snapshot_id}",
                    f"{RUN}-{run.pk}",
                    INPUT,
                    run_input.role,
                )
            )
    shown_runs = {run.pk for run in runs}

    version_of_artifact = {each.artifact_id: each for each in versions}
    for artifact in artifacts:
        owner = version_of_artifact.get(artifact.pk)
        nodes.append(
            LineageNode(
                kind=ARTIFACT,
                pk=artifact.pk,
                label=f"sha256 {artifact.sha256[:12]}",
                caption=artifact.preprocessing_code_version
                or artifact.get_format_display(),
                obj=artifact,
            )
        )
        run_id = artifact.training_run_id or (owner.training_run_id if owner else None)
        if run_id in shown_runs:
            edges.append(
                LineageEdge(f"{RUN}-{run_id}", f"{ARTIFACT}-{artifact.pk}", PRODUCED)
            )

    shown_artifacts = {artifact.pk for artifact in artifacts}
    artifact_runs = {artifact.pk: artifact.training_run_id for artifact in artifacts}
    for each in versions:
        nodes.append(
            LineageNode(
                kind=VERSION,
                pk=each.pk,
                label=f"{model.name} v{each.version}",
                caption=each.get_status_display()
                + (f" · {each.semantic_version}" if each.semantic_version else ""),
                obj=each,
            )
        )
        if each.artifact_id in shown_artifacts:
            edges.append(
                LineageEdge(
                    f"{ARTIFACT}-{each.artifact_id}", f"{VERSION}-{each.pk}", PACKAGED
                )
            )
        artifact_run = artifact_runs.get(each.artifact_id)
        if each.training_run_id in shown_runs and each.training_run_id != artifact_run:
            edges.append(
                LineageEdge(
                    f"{RUN}-{each.training_run_id}", f"{VERSION}-{each.pk}", TRAINED
                )
            )

    number_of = {each.pk: each.version for each in versions}
    for evaluation in evaluations:
        metrics = ", ".join(
            f"{name} {value:.3g}" if isinstance(value, float) else f"{name} {value}"
            for name, value in sorted(evaluation.metrics.items())[:2]
        )
        nodes.append(
            LineageNode(
                kind=EVALUATION,
                pk=evaluation.pk,
                label=f"v{number_of[evaluation.version_id]} "
                f"{evaluation.get_split_display().lower()}",
                caption=metrics,
                obj=evaluation,
            )
        )
        edges.append(
            LineageEdge(
                f"{VERSION}-{evaluation.version_id}",
                f"{EVALUATION}-{evaluation.pk}",
                EVALUATED,
            )
        )
        edges.append(
            LineageEdge(
                f"{SNAPSHOT}-{evaluation.dataset_id}",
                f"{EVALUATION}-{evaluation.pk}",
                EVALUATED_ON,
                evaluation.split,
            )
        )

    shown_versions = set(version_ids)
    for each in requests:
        nodes.append(
            LineageNode(
                kind=REQUEST,
                pk=each.pk,
                label=f"#{each.pk} v{each.version.version} → {each.environment.name}",
                caption=f"{each.get_status_display()} · {each.strategy}",
                obj=each,
            )
        )
        if each.version_id in shown_versions:
            edges.append(
                LineageEdge(
                    f"{VERSION}-{each.version_id}", f"{REQUEST}-{each.pk}", REQUESTED
                )
            )
    for decision in decisions:
        nodes.append(
            LineageNode(
                kind=DECISION,
                pk=decision.pk,
                label=f"{decision.get_outcome_display()} by "
                f"{decision.reviewer.get_username()}",
                caption=f"as {decision.role} · {decision.created_at:%Y-%m-%d}",
                obj=decision,
            )
        )
        edges.append(
            LineageEdge(
                f"{REQUEST}-{decision.request_id}", f"{DECISION}-{decision.pk}", DECIDED
            )
        )

    shown_requests = {each.pk for each in requests}
    shown_deployments = {each.pk for each in deployments}
    for deployment in deployments:
        nodes.append(
            LineageNode(
                kind=DEPLOYMENT,
                pk=deployment.pk,
                label=f"#{deployment.pk} v{deployment.version.version} in "
                f"{deployment.environment.name}",
                caption=f"{deployment.get_status_display()} · {deployment.strategy}"
                + (
                    f" {deployment.traffic_percent}%"
                    if deployment.traffic_percent != 100
                    else ""
                ),
                obj=deployment,
            )
        )
        if deployment.request_id in shown_requests and deployment.restores_id is None:
            edges.append(
                LineageEdge(
                    f"{REQUEST}-{deployment.request_id}",
                    f"{DEPLOYMENT}-{deployment.pk}",
                    DEPLOYED,
                )
            )
        elif deployment.version_id in shown_versions and deployment.restores_id is None:
            edges.append(
                LineageEdge(
                    f"{VERSION}-{deployment.version_id}",
                    f"{DEPLOYMENT}-{deployment.pk}",
                    DEPLOYED,
                )
            )
        if deployment.restores_id in shown_deployments:
            edges.append(
                LineageEdge(
                    f"{DEPLOYMENT}-{deployment.restores_id}",
                    f"{DEPLOYMENT}-{deployment.pk}",
                    RESTORED,
                )
            )
        elif deployment.restores_id is None and (
            deployment.rollback_target_id in shown_deployments
        ):
            edges.append(
                LineageEdge(
                    f"{DEPLOYMENT}-{deployment.rollback_target_id}",
                    f"{DEPLOYMENT}-{deployment.pk}",
                    REPLACED,
                )
            )
    for rolled_back, restored in rollbacks_of(deployments):
        if restored is not None:
            edges.append(
                LineageEdge(
                    f"{DEPLOYMENT}-{rolled_back.pk}",
                    f"{DEPLOYMENT}-{restored.pk}",
                    ROLLED_BACK,
                )
            )

    return LineageGraph(model=model, version=version, nodes=nodes, edges=edges)


def rollbacks_of(
    deployments: list[Deployment],
) -> list[tuple[Deployment, Deployment | None]]:
    """Each rolled-back deployment with the deployment its rollback started.

    A rollback ends the live deployment and, unless its target was still live,
    starts a new row (source "rollback") that restores the target at the same
    instant in the same environment. None when nothing new had to start.
    """
    restorers = {
        (each.restores_id, each.environment_id, each.started_at): each
        for each in deployments
        if each.restores_id is not None
    }
    pairs = []
    for each in deployments:
        if each.status != DeploymentStatus.ROLLED_BACK:
            continue
        restored = restorers.get(
            (each.rollback_target_id, each.environment_id, each.ended_at)
        )
        pairs.append((each, restored))
    return pairs


# --- Impact analysis --------------------------------------------------------------


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


def _shortest_depths(root: int, edges: list[tuple[int, int]]) -> dict[int, int]:
    children: dict[int, list[int]] = defaultdict(list)
    for child, parent in edges:
        children[parent].append(child)
    depth = {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for child in children[node]:
            if child not in depth:
                depth[child] = depth[node] + 1
                queue.append(child)
    return depth


def impact_of_snapshot(*, actor, snapshot: DatasetSnapshot) -> Impact:
    """Everything downstream of a snapshot: the snapshots derived from it at any
    depth, the runs that used any of them, the versions those runs trained or
    that were evaluated on them, and the active deployments of those versions.

    Raises ``DatasetNotFound`` if the actor may not see the snapshot. What lies
    downstream in models the actor may not see is counted in ``hidden`` and not
    named. Nine queries, whatever the depth.
    """
    snapshot = selectors.dataset_get(actor=actor, id=snapshot.pk)
    edges = _derivation_edges({snapshot.pk}, towards="children")
    depths = _shortest_depths(snapshot.pk, edges)
    ids = set(depths)
    parents: dict[int, list[int]] = defaultdict(list)
    for child, parent in edges:
        if child in ids and parent in ids:
            parents[child].append(parent)
    records = {
        each.pk: each
        for each in DatasetSnapshot.objects.filter(pk__in=ids).select_related("team")
    }
    visible_snapshots = _visible_snapshot_ids(actor, ids)

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

    hidden = {"snapshots": 0, "runs": 0, "versions": 0, "deployments": 0}
    snapshots = []
    for pk in sorted(ids, key=lambda pk: (depths[pk], records[pk].name, pk)):
        if pk not in visible_snapshots:
            hidden["snapshots"] += 1
            continue
        snapshots.append(
            ImpactedSnapshot(
                snapshot=records[pk],
                depth=depths[pk],
                parent_ids=sorted(parents.get(pk, [])),
            )
        )

    by_run: dict[int, ImpactedRun] = {}
    for run_input in run_inputs:
        run = run_input.run
        if run.pk not in by_run:
            by_run[run.pk] = ImpactedRun(run=run, inputs=[])
        by_run[run.pk].inputs.append((run_input.snapshot_id, run_input.role))
    runs = []
    for impacted in by_run.values():
        if impacted.run.model_id in visible_models:
            runs.append(impacted)
        else:
            hidden["runs"] += 1

    evaluated: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for version_id, dataset_id, split in evaluations:
        evaluated[version_id].append((dataset_id, split))
    impacted_versions = []
    for each in versions:
        if each.model_id not in visible_models:
            hidden["versions"] += 1
            continue
        trained_by = sorted(
            run_ids & {each.training_run_id, each.artifact.training_run_id}
        )
        impacted_versions.append(
            ImpactedVersion(
                version=each,
                trained_by=trained_by,
                evaluated_on=evaluated.get(each.pk, []),
            )
        )

    live = []
    for deployment in deployments:
        if deployment.model_id in visible_models:
            live.append(deployment)
        else:
            hidden["deployments"] += 1

    return Impact(
        snapshot=snapshot,
        snapshots=snapshots,
        runs=runs,
        versions=impacted_versions,
        deployments=live,
        hidden=hidden,
    )
