"""Loaded records as the graph's nodes and edges, one function per kind of record.

Each returns the nodes of its kind and the edges that lead into them (from
upstream records already shown), in the order the graph lists them. No queries:
everything shown was loaded by ``portal.lineage.loaders``.
"""

from collections.abc import Iterable

from approvals.models import Decision, Deployment, DeploymentRequest
from models_registry.models import (
    Artifact,
    DatasetSnapshot,
    Evaluation,
    ModelVersion,
    RegisteredModel,
    TrainingRun,
)
from portal.lineage.graph import (
    ARTIFACT,
    DECIDED,
    DECISION,
    DEPLOYED,
    DEPLOYMENT,
    DERIVED,
    EVALUATED,
    EVALUATED_ON,
    EVALUATION,
    INPUT,
    PACKAGED,
    PRODUCED,
    REPLACED,
    REQUEST,
    REQUESTED,
    RESTORED,
    ROLLED_BACK,
    RUN,
    SNAPSHOT,
    TRAINED,
    VERSION,
    LineageEdge,
    LineageNode,
    rollbacks_of,
)
from portal.lineage.loaders import Snapshots

Part = tuple[list[LineageNode], list[LineageEdge]]


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


def snapshot_nodes(snapshots: Snapshots) -> Part:
    """Deepest ancestors first; a snapshot the actor may not see is a hidden
    node, so the shape of a derivation chain stays true without its details."""
    records, depths = snapshots.records, snapshots.depths
    nodes = []
    for pk in sorted(
        snapshots.ids,
        key=lambda pk: (
            -depths.get(pk, 0),
            records[pk].name if pk in records else "",
            pk,
        ),
    ):
        node = _snapshot_node(records.get(pk), pk, is_visible=pk in snapshots.visible)
        node.depth = depths.get(pk, 0)
        nodes.append(node)
    edges = [
        LineageEdge(f"{SNAPSHOT}-{parent}", f"{SNAPSHOT}-{child}", DERIVED)
        for child, parent in sorted(snapshots.derivations)
    ]
    return nodes, edges


def run_nodes(runs: list[TrainingRun]) -> Part:
    nodes, edges = [], []
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
    return nodes, edges


def artifact_nodes(
    artifacts: list[Artifact], *, versions: list[ModelVersion], shown_runs: set[int]
) -> Part:
    """An artifact without a run of its own was produced by its version's run."""
    nodes, edges = [], []
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
    return nodes, edges


def version_nodes(
    versions: list[ModelVersion],
    *,
    model: RegisteredModel,
    artifacts: list[Artifact],
    shown_runs: set[int],
) -> Part:
    """A version names the run that trained it only when its artifact does not."""
    nodes, edges = [], []
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
    return nodes, edges


def evaluation_nodes(
    evaluations: list[Evaluation], *, versions: list[ModelVersion]
) -> Part:
    nodes, edges = [], []
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
    return nodes, edges


def request_nodes(
    requests: list[DeploymentRequest], *, shown_versions: set[int]
) -> Part:
    nodes, edges = [], []
    for each in requests:
        nodes.append(
            LineageNode(
                kind=REQUEST,
                pk=each.pk,
                label=f"#{each.pk} v{each.version.version} → {each.environment.name}",
                caption=f"{each.get_current_status_display()} · {each.strategy}",
                obj=each,
            )
        )
        if each.version_id in shown_versions:
            edges.append(
                LineageEdge(
                    f"{VERSION}-{each.version_id}", f"{REQUEST}-{each.pk}", REQUESTED
                )
            )
    return nodes, edges


def decision_nodes(decisions: list[Decision]) -> Part:
    nodes, edges = [], []
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
    return nodes, edges


def _deployment_node(deployment: Deployment) -> LineageNode:
    return LineageNode(
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


def _deployment_edges(
    deployment: Deployment,
    *,
    shown_requests: set[int],
    shown_versions: set[int],
    shown_deployments: set[int],
) -> Iterable[LineageEdge]:
    """What led to a deployment: its request (or its version, for a restore
    without one), and the deployment it restores or replaced."""
    target = f"{DEPLOYMENT}-{deployment.pk}"
    if deployment.request_id in shown_requests and deployment.restores_id is None:
        yield LineageEdge(f"{REQUEST}-{deployment.request_id}", target, DEPLOYED)
    elif deployment.version_id in shown_versions and deployment.restores_id is None:
        yield LineageEdge(f"{VERSION}-{deployment.version_id}", target, DEPLOYED)
    if deployment.restores_id in shown_deployments:
        yield LineageEdge(f"{DEPLOYMENT}-{deployment.restores_id}", target, RESTORED)
    elif deployment.restores_id is None and (
        deployment.rollback_target_id in shown_deployments
    ):
        yield LineageEdge(
            f"{DEPLOYMENT}-{deployment.rollback_target_id}", target, REPLACED
        )


def deployment_nodes(
    deployments: list[Deployment],
    *,
    shown_requests: set[int],
    shown_versions: set[int],
) -> Part:
    """Deployments, then each rollback: rolled-back → the deployment it started."""
    nodes, edges = [], []
    shown_deployments = {each.pk for each in deployments}
    for deployment in deployments:
        nodes.append(_deployment_node(deployment))
        edges.extend(
            _deployment_edges(
                deployment,
                shown_requests=shown_requests,
                shown_versions=shown_versions,
                shown_deployments=shown_deployments,
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
    return nodes, edges
