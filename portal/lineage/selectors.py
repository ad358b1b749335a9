"""The lineage graph of a model or one version: loaders, then nodes and edges."""

from models_registry import access
from models_registry.errors import ModelNotFound
from models_registry.models import ModelVersion, RegisteredModel
from portal.lineage import loaders, nodes
from portal.lineage.graph import LineageGraph


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

    scope = loaders.Scope(actor=actor, model=model, version=version, details=details)
    versions = loaders.load_versions(scope)
    artifacts = loaders.load_artifacts(scope)
    runs = loaders.load_runs(scope, versions=versions, artifacts=artifacts)
    evaluations = loaders.load_evaluations(scope, versions=versions)
    snapshots = loaders.load_snapshots(scope, runs=runs, evaluations=evaluations)
    requests = loaders.load_requests(scope)
    decisions = loaders.load_decisions(scope, requests=requests)
    deployments = loaders.load_deployments(scope)

    shown_runs = {run.pk for run in runs}
    shown_versions = {each.pk for each in versions}
    parts = [
        nodes.snapshot_nodes(snapshots),
        nodes.run_nodes(runs),
        nodes.artifact_nodes(artifacts, versions=versions, shown_runs=shown_runs),
        nodes.version_nodes(
            versions, model=model, artifacts=artifacts, shown_runs=shown_runs
        ),
        nodes.evaluation_nodes(evaluations, versions=versions),
        nodes.request_nodes(requests, shown_versions=shown_versions),
        nodes.decision_nodes(decisions),
        nodes.deployment_nodes(
            deployments,
            shown_requests={each.pk for each in requests},
            shown_versions=shown_versions,
        ),
    ]
    return LineageGraph(
        model=model,
        version=version,
        nodes=[node for part_nodes, _ in parts for node in part_nodes],
        edges=[edge for _, part_edges in parts for edge in part_edges],
    )
