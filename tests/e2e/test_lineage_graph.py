"""The lineage graph in a real browser at 1366 px and 390 px (issue #14 item
11): it fits the width of its box instead of running 2,400 px off-screen; it
zooms and pans with the buttons and by dragging (a drag does not follow a
box's link); a version's box opens that version's lineage. The strict CSP
holds (the script is a static file)."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from tests.e2e.conftest import SCREENSHOTS
from tests.models_registry import lineage_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS_DIR", SCREENSHOTS)) / "lineage"
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective);
});
"""


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def world(transactional_db, team):
    return lineage_world.build(team)


def _sign_in(browser, server, user, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return context, page


def _view_box(page) -> list[float]:
    return [
        float(n)
        for n in page.locator("svg.lineage-graph").get_attribute("viewBox").split()
    ]


def _zoom(page) -> int:
    return int(page.locator("[data-lineage-viewport]").get_attribute("data-zoom"))


@pytest.mark.parametrize("width", [1366, 390])
def test_the_graph_fits_zooms_pans_and_links_versions(
    server, browser, world, auditor, width
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _sign_in(browser, server, auditor, width)
    url = reverse("registry:model-lineage", args=[world.model.name])
    page.goto(server.url + url)
    toolbar = page.locator("[data-lineage-toolbar]")
    toolbar.wait_for(state="visible")
    viewport = page.locator("[data-lineage-viewport]")
    svg = page.locator("svg.lineage-graph")
    drawn_width = _view_box(page)[2]

    # Fitted: the whole drawing is inside the box, and the page does not
    # scroll sideways.
    box, graph = viewport.bounding_box(), svg.bounding_box()
    assert graph["x"] >= box["x"] - 1
    assert graph["x"] + graph["width"] <= box["x"] + box["width"] + 1
    assert _view_box(page) == [0, 0, drawn_width, _view_box(page)[3]]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    fitted = _zoom(page)
    assert fitted < 100
    page.screenshot(path=str(SHOTS / f"lineage-fit-{width}.png"), full_page=True)

    # Zoom in, then drag: the view moves, the page stays.
    page.get_by_role("button", name="Zoom in").click()
    assert _zoom(page) > fitted
    before = _view_box(page)
    centre = viewport.bounding_box()
    x = centre["x"] + centre["width"] / 2
    y = centre["y"] + min(centre["height"] / 2, 120)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 150, y, steps=8)
    page.mouse.up()
    after = _view_box(page)
    assert after[0] > before[0]
    assert page.url == server.url + url

    page.get_by_role("button", name="Actual size").click()
    assert page.locator("[data-zoom-level]").inner_text() == "Actual size"
    assert _zoom(page) == 100
    page.screenshot(path=str(SHOTS / f"lineage-actual-{width}.png"), full_page=False)

    page.get_by_role("button", name="Fit to width").click()
    assert _zoom(page) == fitted

    # A version's box opens that version's lineage.
    page.locator(f"#node-version-{world.v2.pk}").click()
    lineage = reverse("registry:version-lineage", args=[world.model.name, 2])
    page.wait_for_url(server.url + lineage)
    page.locator("[data-lineage-toolbar]").wait_for(state="visible")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(SHOTS / f"lineage-version-{width}.png"), full_page=True)
    assert page.evaluate("window.cspViolations") == []
    context.close()
