"""The lineage pages, the impact page and the impact API."""

import itertools
import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from models_registry import services
from portal.lineage import lineage_graph
from portal.lineage.svg import NODE_HEIGHT, ROW_HEIGHT, layout
from portal.services import api_token_create
from tests.models_registry import factories, lineage_world

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(team):
    return lineage_world.build(team)


def logged_in(client, user):
    client.force_login(user)
    return client


def svg_of(response) -> ET.Element:
    body = response.content.decode()
    match = re.search(r"<svg .*?</svg>", body, re.DOTALL)
    assert match, "the page draws no graph"
    # Our own server output, not untrusted input.
    return ET.fromstring(match.group(0))  # noqa: S314


def test_model_lineage_page_draws_and_lists_every_record(client, world, auditor):
    response = logged_in(client, auditor).get(
        reverse("registry:model-lineage", args=[world.model.name])
    )
    assert response.status_code == 200
    svg = svg_of(response)
    graph = lineage_graph(actor=auditor, model=world.model)
    drawn = {
        element.get("id")
        for element in svg.iter()
        if (element.get("id") or "").startswith("node-")
    }
    assert drawn == {f"node-{node.key}" for node in graph.nodes}
    assert len(svg.findall(f".//{SVG}path[@marker-end]")) == len(graph.edges)
    body = response.content.decode()
    for node in graph.nodes:
        assert f'id="row-{node.key}"' in body
    # Nodes link to their pages.
    links = {element.get("href") for element in svg.iter(f"{SVG}a")}
    assert reverse("registry:dataset-detail", args=[world.snap["z"].pk]) in links
    assert reverse("registry:run-detail", args=[world.run1.pk]) in links
    assert reverse("registry:version-detail", args=[world.model.name, 1]) in links
    assert reverse("approvals:request-detail", args=[world.pending.pk]) in links
    assert reverse("approvals:deployment-detail", args=[world.restored.pk]) in links
    assert reverse("reports:model-report", args=[world.model.name]) in body


def test_every_linked_page_opens_for_the_viewer(client, world, auditor):
    client = logged_in(client, auditor)
    svg = svg_of(client.get(reverse("registry:model-lineage", args=[world.model.name])))
    for href in {element.get("href") for element in svg.iter(f"{SVG}a")}:
        assert client.get(href.split("#")[0]).status_code == 200, href


def test_version_lineage_page(client, world, data_scientist):
    response = logged_in(client, world.cast.author).get(
        reverse("registry:version-lineage", args=[world.model.name, 2])
    )
    assert response.status_code == 200
    assert f"Lineage of {world.model.name} v2" in response.content.decode()
    assert (
        reverse("reports:version-report", args=[world.model.name, 2])
        in response.content.decode()
    )


def test_reviewer_sees_hidden_snapshots_without_links_or_names(client, world):
    response = logged_in(client, world.cast.reviewer).get(
        reverse("registry:model-lineage", args=[world.model.name])
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "z-landing" not in body
    assert body.count('class="lineage-node node-snapshot node-hidden"') == 5
    assert reverse("registry:dataset-detail", args=[world.snap["z"].pk]) not in body


@pytest.mark.parametrize(
    ("url_name", "args"),
    [("registry:model-lineage", 1), ("registry:version-lineage", 2)],
)
def test_outsider_gets_404_on_lineage_pages(client, world, outsider, url_name, args):
    url = reverse(url_name, args=[world.model.name, 1][:args])
    assert logged_in(client, outsider).get(url).status_code == 404


def test_unknown_version_is_404(client, world, auditor):
    url = reverse("registry:version-lineage", args=[world.model.name, 9])
    assert logged_in(client, auditor).get(url).status_code == 404


def test_lineage_page_is_post_refused(client, world, auditor):
    client = logged_in(client, auditor)
    count = AuditEvent.objects.count()
    url = reverse("registry:model-lineage", args=[world.model.name])
    assert client.post(url).status_code == 405
    assert AuditEvent.objects.count() == count


def test_lineage_page_queries_do_not_grow_with_depth(
    client, team, data_scientist, django_assert_max_num_queries
):
    client = logged_in(client, data_scientist)
    for depth in (1, 10):
        model, _, _ = lineage_world.chain(
            data_scientist, team, depth=depth, name=f"chain-{depth}"
        )
        # session, user, permissions, the graph's queries, the nav's roles
        with django_assert_max_num_queries(19):
            response = client.get(reverse("registry:model-lineage", args=[model.name]))
        assert response.status_code == 200


def test_layout_keeps_200_nodes_apart_and_left_to_right(team, data_scientist, auditor):
    """Readable at 200 nodes: no two boxes overlap, every edge runs to the right
    (or within a column, for rollbacks), and the page stays under 200 KB."""
    model = factories.make_model(data_scientist, team, name="wide-model")
    previous = None
    for number in range(40):
        train = factories.make_snapshot(
            data_scientist,
            team,
            name=f"wide-{number}",
            parents=[previous] if previous is not None and number % 3 else [],
        )
        run = factories.make_run(data_scientist, model, inputs=[(train, "train")])
        version = factories.make_version(data_scientist, model, run=run)
        services.evaluation_record(
            actor=data_scientist,
            version=version,
            split="train",
            dataset=train,
            metrics={"auc": 0.8},
        )
        previous = train
    graph = lineage_graph(actor=auditor, model=model)
    assert len(graph.nodes) == 200
    plan = layout(graph)
    for column in plan.columns:
        ys = sorted(plan.positions[node.key][1] for node in column.nodes)
        assert all(b - a >= ROW_HEIGHT for a, b in itertools.pairwise(ys))
        assert ROW_HEIGHT > NODE_HEIGHT
    for edge in graph.edges:
        assert plan.column_of[edge.source] <= plan.column_of[edge.target]
    assert plan.height <= 40 * ROW_HEIGHT * 2


# --- Impact page and API ----------------------------------------------------------


def test_impact_page_lists_what_is_downstream(client, world, auditor):
    response = logged_in(client, auditor).get(
        reverse("registry:dataset-impact", args=[world.snap["a"].pk])
    )
    body = response.content.decode()
    assert response.status_code == 200
    for name in ("b-clean", "c-dedup", "d-joined", "e-train"):
        assert name in body
    assert "z-landing" not in body.split('id="derived-heading"')[1]
    assert world.run1.external_run_id in body
    assert world.run2.external_run_id in body
    assert "1 deployment of 1 model" in body
    assert reverse("approvals:deployment-detail", args=[world.restored.pk]) in body
    assert reverse("approvals:deployment-detail", args=[world.second.pk]) not in body


def test_impact_page_is_404_for_an_invisible_snapshot(client, world, outsider):
    url = reverse("registry:dataset-impact", args=[world.snap["a"].pk])
    assert logged_in(client, outsider).get(url).status_code == 404


def token_client(user) -> APIClient:
    client = APIClient()
    _, plaintext = api_token_create(user=user, name="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    return client


def test_impact_api_answers_the_same(world, auditor):
    snap = world.snap
    response = token_client(auditor).get(f"/api/v1/datasets/{snap['d'].pk}/impact")
    assert response.status_code == 200
    data = response.json()
    assert data["snapshot"]["name"] == "d-joined"
    assert data["snapshot"]["parents"] == []
    assert [
        (each["name"], each["depth"], each["parents"]) for each in data["descendants"]
    ] == [("e-train", 1, [snap["d"].pk])]
    assert {each["id"] for each in data["runs"]} == {world.run1.pk, world.run2.pk}
    assert {(each["model"], each["version"]) for each in data["versions"]} == {
        (world.model.name, 1),
        (world.model.name, 2),
    }
    assert [each["id"] for each in data["deployments"]] == [world.restored.pk]
    assert data["deployments"][0]["environment"] == "staging"
    assert data["deployed_models"] == [world.model.name]
    assert data["hidden"] == {
        "snapshots": 0,
        "runs": 0,
        "versions": 0,
        "deployments": 0,
    }


def test_impact_api_is_404_for_an_invisible_snapshot(world, outsider):
    response = token_client(outsider).get(
        f"/api/v1/datasets/{world.snap['a'].pk}/impact"
    )
    assert response.status_code == 404
    assert response.json() == {
        "code": "dataset_not_found",
        "message": "No such dataset snapshot.",
        "fields": {},
    }


def test_impact_api_refuses_writes(world, auditor):
    client = token_client(auditor)
    count = AuditEvent.objects.count()
    url = f"/api/v1/datasets/{world.snap['a'].pk}/impact"
    for method in (client.post, client.put, client.patch, client.delete):
        assert method(url, {}, format="json").status_code == 405
    assert AuditEvent.objects.count() == count


def test_impact_api_is_in_the_schema(client, auditor):
    response = logged_in(client, auditor).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/datasets/{id}/impact"]["get"]
    assert operation["operationId"] == "datasets_impact"


def test_record_pages_link_to_their_lineage_reports_and_impact(client, world, auditor):
    logged_in(client, auditor)
    model, version, snapshot = world.model, world.v1, world.snap["z"]
    pages = {
        reverse("registry:model-detail", args=[model.name]): [
            reverse("registry:model-lineage", args=[model.name]),
            reverse("reports:model-report", args=[model.name]),
            reverse("reports:model-report", args=[model.name]) + "?format=pdf",
        ],
        reverse("registry:version-detail", args=[model.name, version.version]): [
            reverse("registry:version-lineage", args=[model.name, version.version]),
            reverse("reports:version-report", args=[model.name, version.version])
            + "?format=csv",
        ],
        reverse("registry:dataset-detail", args=[snapshot.pk]): [
            reverse("registry:dataset-impact", args=[snapshot.pk]),
        ],
    }
    for page, links in pages.items():
        body = client.get(page).content.decode()
        for link in links:
            assert f'href="{link}"' in body, (page, link)
            assert client.get(link).status_code == 200, link
