"""The LLM dashboard in a real browser at 1366 px and at phone width (390 px):
every chart drawn in the portal's layout (readable date labels, no note over
the data, the portal's colours), nothing overflowing the window. At phone width
the day-by-day table, and the home page's latest events, stack each row as a
card of labelled lines instead of scrolling sideways in their box."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from approvals.models import Deployment
from kernel import roles
from models_registry.models import RegisteredModel
from tests.e2e.test_monitoring_pages import (
    CHART_PROBLEMS,
    WIDTHS,
    _overflow,
    _page,
    _sync_orm_beside_playwright,  # noqa: F401 (an autouse fixture)
    _wait_for_charts,
    shoot,  # noqa: F401 (a fixture)
)
from tests.monitoring.batches import check_all, hour_ago, ingest
from tests.monitoring.conftest import build_world
from tests.monitoring.llm_calls import call_rows

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _table_fits(page, selector: str) -> bool:
    """The table is no wider than its box: nothing to scroll sideways."""
    return page.locator(selector).evaluate(
        "table => table.scrollWidth <= table.parentElement.clientWidth"
        " && table.parentElement.scrollWidth <= table.parentElement.clientWidth"
    )


@pytest.fixture
def llm_monitored(transactional_db):
    """credit-scoring v2 in production with 14 hours of LLM calls: judged,
    flagged now and then, the cost per call doubling in the last hours."""
    roles.sync_role_groups(apps)
    importlib.import_module(
        "approvals.migrations.0002_default_policies"
    ).create_defaults(apps, None)
    ids = build_world()
    users = get_user_model().objects.in_bulk(list(ids["people"].values()))
    world = SimpleNamespace(
        users=SimpleNamespace(**{n: users[pk] for n, pk in ids["people"].items()}),
        deployment=Deployment.objects.get(pk=ids["deployment"]),
        model=RegisteredModel.objects.get(pk=ids["model"]),
    )
    for hour in range(14, 2, -1):
        rows = call_rows(
            60,
            start=hour_ago(hour),
            prefix=f"h{hour}-",
            cost=0.002 if hour > 5 else 0.005,
            latency_ms=800.0 + 30 * hour,
            flagged={0: ["violence"]} if hour % 4 == 0 else {},
            thumbs={1: "down", 2: "up"},
            judge={"faithfulness": [0.9 - hour / 100] * 20},
        )
        ingest(world, rows, f"llm-{hour}", kind="llm_calls")
    check_all()
    return world


@pytest.mark.parametrize("width", WIDTHS)
def test_the_llm_dashboard_is_readable(server, browser, shoot, llm_monitored, width):  # noqa: F811
    context, page = _page(browser, server, llm_monitored.users.reviewer, WIDTHS[width])
    page.goto(f"{server.url}/monitoring/deployments/{llm_monitored.deployment.pk}/llm/")
    _wait_for_charts(page, 6)
    shoot(page, f"llm-dashboard-{width}")
    assert _overflow(page) == 0
    assert _table_fits(page, "table.llm-days")
    assert _table_fits(page, "table.llm-judged")
    assert page.evaluate(CHART_PROBLEMS) == []
    assert "LLM cost spike" in page.locator("#alerts-heading + *").inner_text()
    if width == "phone":
        # Each day is a card: its date, then each figure under its column's name.
        first = page.locator("table.llm-days tbody tr").first
        assert (
            first.locator("td").first.evaluate(
                "td => getComputedStyle(td, '::before').content"
            )
            == '"Calls"'
        )
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_home_page_s_latest_events_fit_the_screen(
    server,
    browser,
    shoot,  # noqa: F811
    llm_monitored,
    width,
):
    context, page = _page(browser, server, llm_monitored.users.auditor, WIDTHS[width])
    events = page.locator("table.recent-events")
    assert events.locator("tbody tr").count() > 0
    shoot(page, f"home-latest-events-{width}")
    assert _overflow(page) == 0
    assert _table_fits(page, "table.recent-events")
    if width == "phone":
        assert (
            events.locator("tbody tr")
            .first.locator("td")
            .nth(2)
            .evaluate("td => getComputedStyle(td, '::before').content")
            == '"Who"'
        )
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_prompt_s_deployment_dashboard_draws_only_what_applies(
    server,
    browser,
    shoot,  # noqa: F811
    llm_monitored,
    width,
):
    RegisteredModel.objects.filter(pk=llm_monitored.model.pk).update(kind="prompt")
    context, page = _page(browser, server, llm_monitored.users.reviewer, WIDTHS[width])
    page.goto(f"{server.url}/monitoring/deployments/{llm_monitored.deployment.pk}/")
    _wait_for_charts(page, 2)
    shoot(page, f"prompt-deployment-dashboard-{width}")
    assert _overflow(page) == 0
    assert page.evaluate(CHART_PROBLEMS) == []
    drawn = page.eval_on_selector_all(
        "[data-chart]", "els => els.map((el) => el.dataset.chart)"
    )
    assert drawn == ["chart-latency", "chart-kpis"]
    sentence = page.locator("#trained-model-panels")
    assert sentence.is_visible()
    assert "apply to trained models only" in sentence.inner_text()
    sentence.get_by_role("link", name="its LLM dashboard").click()
    page.wait_for_url("**/llm/")
    context.close()
