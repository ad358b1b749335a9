"""Getting from a model's lineage to one version's lineage by following links,
not by editing the URL (issue #14 item 11), and the graph's zoom controls,
which the script shows (hidden without it)."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from tests.models_registry import lineage_world

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(team):
    return lineage_world.build(team)


def _svg_links(body: str) -> dict[str, str]:
    match = re.search(r"<svg .*?</svg>", body, re.DOTALL)
    root = ET.fromstring(match.group(0))  # noqa: S314  (our own output)
    return {element.get("id"): element.get("href") for element in root.iter(f"{SVG}a")}


def test_each_version_box_opens_that_versions_lineage(client, world, auditor):
    client.force_login(auditor)
    body = client.get(
        reverse("registry:model-lineage", args=[world.model.name])
    ).content.decode()
    links = _svg_links(body)
    for version in (world.v1, world.v2):
        lineage = reverse(
            "registry:version-lineage", args=[world.model.name, version.version]
        )
        assert links[f"node-version-{version.pk}"] == lineage
        # Also listed above the graph and in the table, and it opens.
        assert body.count(f'href="{lineage}"') >= 3
        assert client.get(lineage).status_code == 200
    assert "add <code>lineage/</code>" not in body


def test_on_a_versions_lineage_its_own_box_opens_its_page(client, world, auditor):
    client.force_login(auditor)
    url = reverse("registry:version-lineage", args=[world.model.name, 2])
    body = client.get(url).content.decode()
    links = _svg_links(body)
    assert links[f"node-version-{world.v2.pk}"] == reverse(
        "registry:version-detail", args=[world.model.name, 2]
    )
    assert f'<a class="tag" href="{url}" aria-current="page">v2 (this page)</a>' in body
    assert reverse("registry:model-lineage", args=[world.model.name]) in body


def test_the_graph_has_zoom_controls_for_its_script(client, world, auditor):
    client.force_login(auditor)
    body = client.get(
        reverse("registry:model-lineage", args=[world.model.name])
    ).content.decode()
    assert '<div class="lineage-toolbar" data-lineage-toolbar hidden>' in body
    assert "js/lineage-graph.js" in body
    assert "<script>" not in body
