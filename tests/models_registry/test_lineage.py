"""The lineage graph and impact analysis selectors."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import Decision, Deployment
from kernel import roles
from models_registry import services
from models_registry.errors import DatasetNotFound, ModelNotFound
from portal import lineage
from portal.lineage import impact_of_snapshot, lineage_graph
from portal.lineage.derivations import derivation_edges
from tests.conftest import make_user
from tests.models_registry import factories, lineage_world

pytestmark = pytest.mark.django_db

# The selectors' own queries, plus two that load the actor's global permissions
# (once per request).
GRAPH_QUERY_BOUND = 12 + 2
IMPACT_QUERY_BOUND = 9 + 2


@pytest.fixture
def world(team):
    return lineage_world.build(team)


def keys(graph, kind):
    return {node.pk for node in graph.of_kind(kind)}


def edges(graph, kind):
    return {
        (graph.node(edge.source).pk, graph.node(edge.target).pk, edge.label)
        for edge in graph.edges
        if edge.kind == kind
    }


def fresh(user):
    """The same person without cached permissions, as on a new request."""
    return get_user_model().objects.get(pk=user.pk)


def test_model_graph_holds_every_record_from_snapshots_to_rollbacks(world, auditor):
    graph = lineage_graph(actor=auditor, model=world.model)
    snap = world.snap
    assert keys(graph, lineage.SNAPSHOT) == {each.pk for each in snap.values()}
    assert keys(graph, lineage.RUN) == {world.run1.pk, world.run2.pk}
    assert keys(graph, lineage.ARTIFACT) == {
        world.v1.artifact_id,
        world.v2.artifact_id,
    }
    assert keys(graph, lineage.VERSION) == {world.v1.pk, world.v2.pk}
    assert keys(graph, lineage.EVALUATION) == {world.evaluation.pk}
    requests = {world.first.request_id, world.second.request_id, world.pending.pk}
    assert keys(graph, lineage.REQUEST) == requests
    decisions = dict(
        Decision.objects.filter(request_id__in=requests).values_list("pk", "request_id")
    )
    assert keys(graph, lineage.DECISION) == set(decisions)
    assert len(decisions) == 2
    assert keys(graph, lineage.DEPLOYMENT) == {
        world.first.pk,
        world.second.pk,
        world.restored.pk,
    }
    assert not any(node.is_hidden for node in graph.nodes)

    assert edges(graph, lineage.DERIVED) == {
        (snap["z"].pk, snap["a"].pk, ""),
        (snap["a"].pk, snap["b"].pk, ""),
        (snap["a"].pk, snap["c"].pk, ""),
        (snap["b"].pk, snap["d"].pk, ""),
        (snap["c"].pk, snap["d"].pk, ""),
        (snap["d"].pk, snap["e"].pk, ""),
    }
    assert edges(graph, lineage.INPUT) == {
        (snap["e"].pk, world.run1.pk, "train"),
        (snap["t"].pk, world.run1.pk, "test"),
        (snap["e"].pk, world.run2.pk, "train"),
    }
    assert edges(graph, lineage.PRODUCED) == {
        (world.run1.pk, world.v1.artifact_id, ""),
        (world.run2.pk, world.v2.artifact_id, ""),
    }
    assert edges(graph, lineage.PACKAGED) == {
        (world.v1.artifact_id, world.v1.pk, ""),
        (world.v2.artifact_id, world.v2.pk, ""),
    }
    assert edges(graph, lineage.EVALUATED) == {(world.v1.pk, world.evaluation.pk, "")}
    assert edges(graph, lineage.EVALUATED_ON) == {
        (snap["t"].pk, world.evaluation.pk, "test")
    }
    assert edges(graph, lineage.REQUESTED) == {
        (world.v1.pk, world.first.request_id, ""),
        (world.v2.pk, world.second.request_id, ""),
        (world.v2.pk, world.pending.pk, ""),
    }
    assert edges(graph, lineage.DECIDED) == {
        (request_id, decision, "") for decision, request_id in decisions.items()
    }
    assert edges(graph, lineage.DEPLOYED) == {
        (world.first.request_id, world.first.pk, ""),
        (world.second.request_id, world.second.pk, ""),
    }
    assert edges(graph, lineage.REPLACED) == {(world.first.pk, world.second.pk, "")}
    assert edges(graph, lineage.ROLLED_BACK) == {
        (world.second.pk, world.restored.pk, "")
    }
    assert edges(graph, lineage.RESTORED) == {(world.first.pk, world.restored.pk, "")}


def test_snapshot_depth_is_the_longest_derivation_path(world, auditor):
    graph = lineage_graph(actor=auditor, model=world.model)
    depth = {node.obj.name: node.depth for node in graph.of_kind(lineage.SNAPSHOT)}
    assert depth == {
        "z-landing": 4,
        "a-raw": 3,
        "b-clean": 2,
        "c-dedup": 2,
        "d-joined": 1,
        "e-train": 0,
        "t-test": 0,
    }
    assert graph.max_depth == 4


def test_diamond_ancestor_appears_once(world, auditor):
    graph = lineage_graph(actor=auditor, model=world.model)
    names = [node.obj.name for node in graph.of_kind(lineage.SNAPSHOT)]
    assert sorted(names) == sorted(set(names))
    assert len(graph.nodes) == len({node.key for node in graph.nodes})
    assert len(graph.edges) == len(set(graph.edges))


def test_version_graph_holds_only_that_version(world, auditor):
    graph = lineage_graph(actor=auditor, version=world.v2)
    snap = world.snap
    assert keys(graph, lineage.VERSION) == {world.v2.pk}
    assert keys(graph, lineage.RUN) == {world.run2.pk}
    assert keys(graph, lineage.SNAPSHOT) == {
        snap[name].pk for name in ("z", "a", "b", "c", "d", "e")
    }
    assert keys(graph, lineage.EVALUATION) == set()
    assert keys(graph, lineage.REQUEST) == {world.second.request_id, world.pending.pk}
    assert keys(graph, lineage.DEPLOYMENT) == {world.second.pk}
    # The deployments it replaced and that replaced it belong to v1.
    assert edges(graph, lineage.REPLACED) == set()
    assert edges(graph, lineage.ROLLED_BACK) == set()


def test_reviewer_sees_hidden_ancestors_in_place_without_details(world):
    reviewer = world.cast.reviewer
    graph = lineage_graph(actor=reviewer, model=world.model)
    hidden = {node.pk for node in graph.of_kind(lineage.SNAPSHOT) if node.is_hidden}
    snap = world.snap
    assert hidden == {snap[name].pk for name in ("z", "a", "b", "c", "d")}
    for node in graph.of_kind(lineage.SNAPSHOT):
        if node.is_hidden:
            assert (node.obj, node.label) == (None, "Hidden snapshot")
    assert len(edges(graph, lineage.DERIVED)) == 6
    assert graph.node(f"snapshot-{snap['z'].pk}").depth == 4


def test_outsider_may_not_see_the_graph(world, outsider):
    with pytest.raises(ModelNotFound):
        lineage_graph(actor=outsider, model=world.model)


def test_data_scientist_of_another_team_may_not_see_the_graph(world, other_team):
    stranger = make_user("sam", roles.DATA_SCIENTIST, team=other_team)
    with pytest.raises(ModelNotFound):
        lineage_graph(actor=stranger, version=world.v1)


def _graph_queries(actor, model) -> int:
    actor = fresh(actor)
    with CaptureQueriesContext(connection) as captured:
        lineage_graph(actor=actor, model=model)
    return len(captured)


@pytest.mark.parametrize("persona", ["auditor", "data_scientist"])
def test_graph_queries_do_not_grow_with_depth(
    request, persona, team, data_scientist, auditor
):
    actor = request.getfixturevalue(persona)
    shallow, _, _ = lineage_world.chain(data_scientist, team, depth=1, name="shallow")
    deep, _, _ = lineage_world.chain(data_scientist, team, depth=12, name="deep")
    assert len(lineage_graph(actor=actor, model=deep).of_kind("snapshot")) == 13
    shallow_queries = _graph_queries(actor, shallow)
    assert shallow_queries == _graph_queries(actor, deep)
    assert shallow_queries <= GRAPH_QUERY_BOUND


def test_graph_of_a_model_with_nothing_recorded(data_scientist, team):
    model = factories.make_model(data_scientist, team, name="empty-model")
    graph = lineage_graph(actor=data_scientist, model=model)
    assert (graph.nodes, graph.edges) == ([], [])


def test_derivation_walk_survives_a_cycle(world, auditor):
    """The services never make a cycle (parents exist before children), but the
    recursive query must end even if the table held one."""
    snap = world.snap
    through = snap["z"].parents.through
    through.objects.create(
        from_datasetsnapshot_id=snap["z"].pk, to_datasetsnapshot_id=snap["e"].pk
    )
    pairs = derivation_edges({snap["e"].pk}, towards="parents")
    assert (snap["z"].pk, snap["e"].pk) in pairs
    assert len(pairs) == 7


# --- Impact analysis --------------------------------------------------------------


def test_impact_reaches_every_descendant_run_and_version(world, auditor):
    snap = world.snap
    impact = impact_of_snapshot(actor=auditor, snapshot=snap["z"])
    depths = {each.snapshot.name: each.depth for each in impact.snapshots}
    assert depths == {
        "z-landing": 0,
        "a-raw": 1,
        "b-clean": 2,
        "c-dedup": 2,
        "d-joined": 3,
        "e-train": 4,
    }
    assert impact.descendants[0].snapshot.name == "a-raw"
    parents = {each.snapshot.name: each.parent_ids for each in impact.snapshots}
    assert parents["d-joined"] == sorted([snap["b"].pk, snap["c"].pk])
    assert {each.run.pk: each.inputs for each in impact.runs} == {
        world.run1.pk: [(snap["e"].pk, "train")],
        world.run2.pk: [(snap["e"].pk, "train")],
    }
    assert {each.version.pk: each.trained_by for each in impact.versions} == {
        world.v1.pk: [world.run1.pk],
        world.v2.pk: [world.run2.pk],
    }
    assert impact.hidden == {"snapshots": 0, "runs": 0, "versions": 0, "deployments": 0}


def test_impact_counts_only_active_deployments_as_deployed(world, auditor):
    impact = impact_of_snapshot(actor=auditor, snapshot=world.snap["e"])
    # first was superseded, second rolled back; the rollback's row is live.
    assert [each.pk for each in impact.deployments] == [world.restored.pk]
    assert impact.deployed_models == [world.model]


def test_nothing_is_deployed_once_the_live_deployment_ends(world, auditor):
    Deployment.objects.filter(pk=world.restored.pk).update(
        status="superseded", ended_at=world.restored.started_at
    )
    impact = impact_of_snapshot(actor=auditor, snapshot=world.snap["a"])
    assert (impact.deployments, impact.deployed_models) == ([], [])
    assert len(impact.versions) == 2


def test_impact_of_a_test_snapshot_reaches_versions_evaluated_on_it(world, auditor):
    snap = world.snap
    impact = impact_of_snapshot(actor=auditor, snapshot=snap["t"])
    assert impact.descendants == []
    assert [each.run.pk for each in impact.runs] == [world.run1.pk]
    [version] = impact.versions
    assert (version.version.pk, version.trained_by, version.evaluated_on) == (
        world.v1.pk,
        [world.run1.pk],
        [(snap["t"].pk, "test")],
    )


def test_impact_counts_what_the_actor_may_not_see(world, team, data_scientist):
    """A reviewer of one model sees the snapshot it trains on; a second model of
    the team trained on the same snapshot is counted, not named."""
    other = factories.make_model(data_scientist, team, name="second-model")
    run = factories.make_run(data_scientist, other, inputs=[(world.snap["e"], "train")])
    factories.make_version(data_scientist, other, run=run)
    reviewer = make_user("viewer", roles.REVIEWER)
    services.model_reviewer_assign(
        actor=world.cast.admin, user=reviewer, model=world.model
    )
    impact = impact_of_snapshot(actor=reviewer, snapshot=world.snap["e"])
    assert {each.run.pk for each in impact.runs} == {world.run1.pk, world.run2.pk}
    assert {each.version.model.name for each in impact.versions} == {world.model.name}
    assert impact.hidden == {"snapshots": 0, "runs": 1, "versions": 1, "deployments": 0}


def test_impact_of_an_invisible_snapshot_is_not_found(world, outsider):
    with pytest.raises(DatasetNotFound):
        impact_of_snapshot(actor=outsider, snapshot=world.snap["a"])


def _impact_queries(actor, snapshot) -> int:
    actor = fresh(actor)
    with CaptureQueriesContext(connection) as captured:
        impact_of_snapshot(actor=actor, snapshot=snapshot)
    return len(captured)


@pytest.mark.parametrize("persona", ["auditor", "data_scientist"])
def test_impact_queries_do_not_grow_with_depth(
    request, persona, team, data_scientist, auditor
):
    actor = request.getfixturevalue(persona)
    shallow_root = factories.make_snapshot(data_scientist, team, name="root-1")
    deep_root = factories.make_snapshot(data_scientist, team, name="root-2")
    for root, depth, name in ((shallow_root, 1, "shallow"), (deep_root, 12, "deep")):
        parent = root
        for step in range(depth):
            parent = factories.make_snapshot(
                data_scientist, team, name=f"{name}-{step}", parents=[parent]
            )
        model = factories.make_model(data_scientist, team, name=name)
        run = factories.make_run(data_scientist, model, inputs=[(parent, "train")])
        factories.make_version(data_scientist, model, run=run)
    assert len(impact_of_snapshot(actor=actor, snapshot=deep_root).descendants) == 12
    shallow_queries = _impact_queries(actor, shallow_root)
    assert shallow_queries == _impact_queries(actor, deep_root)
    assert shallow_queries <= IMPACT_QUERY_BOUND
