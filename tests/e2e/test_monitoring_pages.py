"""The monitoring pages in a real browser at 1366 px and at phone width (390 px)
(issue #14, item 12): the alerts list and its filters, the review queue's pages,
an alert's evidence and charts, and the dashboard's charts (readable date
labels, no note over the data, no "μ" on an axis, the portal's colours, cards
of one height per row). Nothing overflows the window.

Screenshots land in test-artifacts/e2e/ (and in $GH_SHOTS when set).
"""

import importlib
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from approvals.models import Deployment
from kernel import roles
from monitoring.models import Alert, MonitoringBatch, MonitoringTarget, ReviewItem
from tests.monitoring.batches import (
    check_all,
    hour_ago,
    ingest,
    prediction_rows,
    reference_rows,
    upload_reference,
)
from tests.monitoring.conftest import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the test users' (tests/conftest.py)
WIDTHS = {"wide": 1366, "phone": 390}
# plotly's own colourway, which the portal's charts must not fall back to.
PLOTLY_DEFAULTS = {"rgb(99, 110, 250)", "rgb(171, 99, 250)", "rgb(239, 85, 59)"}


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def shoot(screenshots):
    extra = os.environ.get("GH_SHOTS")

    def save(page, name):
        # A full-page capture resizes the window, and plotly lays its charts out
        # again while it is taken: make the window as tall as the page first,
        # and away from the charts, so the capture shows them as people do.
        width = page.viewport_size["width"]
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": width, "height": height})
        page.mouse.move(0, 0)
        page.wait_for_timeout(800)
        path = screenshots(page, name)
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(extra) / path.name), full_page=True)
        return path

    return save


@pytest.fixture
def monitored(transactional_db):
    """credit-scoring v2 live in production (it replaced v1), with a day of
    windows: the income feature drifts in the last hours, latency misses its
    SLO, some incomes are NaN, and 120 predictions wait for a label."""
    roles.sync_role_groups(apps)
    importlib.import_module(
        "approvals.migrations.0002_default_policies"
    ).create_defaults(apps, None)
    ids = build_world()
    users = get_user_model().objects.in_bulk(list(ids["people"].values()))
    people = {name: users[pk] for name, pk in ids["people"].items()}
    world = SimpleNamespace(
        users=SimpleNamespace(**people),
        deployment=Deployment.objects.get(pk=ids["deployment"]),
    )
    from models_registry.models import RegisteredModel

    world.model = RegisteredModel.objects.get(pk=ids["model"])
    upload_reference(world, reference_rows())
    for hour in range(14, 2, -1):
        rows = prediction_rows(
            200,
            start=hour_ago(hour),
            seed=hour,
            income_mean=50_000 if hour > 5 else 68_000,
            latency_scale=20 if hour > 4 else 70,
            labels=True,
        )
        for row in rows[:5]:
            row["income"] = float("nan")
        ingest(world, rows, f"h{hour}")
    check_all()
    target = MonitoringTarget.objects.get()
    ReviewItem.objects.all().delete()
    window = target.windows.order_by("start").first()
    ReviewItem.objects.bulk_create(
        [
            ReviewItem(
                target=target,
                window=window,
                batch=MonitoringBatch.objects.first(),
                prediction_id=f"q{index:03d}",
                predicted_at=window.start,
                confidence=index / 1000,
            )
            for index in range(120)
        ]
    )
    world.drift_alert = Alert.objects.get(kind="data_drift", subject="income")
    return world


def _page(browser, server, user, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return context, page


def _overflow(page) -> int:
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def _wait_for_charts(page, count: int) -> None:
    page.wait_for_function(
        f"document.querySelectorAll('[data-chart] .main-svg').length >= {count}"
    )
    # plotly lays responsive charts out again once they are attached: let it
    # settle before measuring or taking a screenshot.
    page.wait_for_timeout(800)


CHART_PROBLEMS = """
() => {
  const problems = [];
  for (const chart of document.querySelectorAll('[data-chart]')) {
    const name = chart.getAttribute('data-chart');
    const svg = chart.querySelector('.main-svg');
    if (!svg) { problems.push(name + ': not drawn'); continue; }
    const frame = svg.getBoundingClientRect();
    const card = chart.closest('.card').getBoundingClientRect();
    if (frame.height < chart._fullLayout.height - 1 || frame.bottom > card.bottom + 1) {
      problems.push(name + ': the chart is cut');
    }
    const ticks = [...chart.querySelectorAll('.xtick text')]
      .map(t => t.getBoundingClientRect()).filter(b => b.width > 0)
      .sort((a, b) => a.left - b.left);
    for (let i = 1; i < ticks.length; i++) {
      if (ticks[i].left < ticks[i - 1].right - 0.5) {
        problems.push(name + ': date labels overlap');
        break;
      }
    }
    for (const b of ticks) {
      if (b.left < frame.left - 1 || b.right > frame.right + 1
          || b.bottom > frame.bottom + 1) {
        problems.push(name + ': a date label is clipped');
        break;
      }
    }
    for (const t of chart.querySelectorAll('.ytick text, .xtick text')) {
      if (t.textContent.includes('\u03bc')) problems.push(name + ': μ on an axis');
    }
    const note = chart.querySelector('.annotation');
    if (note && chart.querySelector('.scatterlayer .trace')) {
      problems.push(name + ': a note drawn over the data');
    }
    for (const bar of chart.querySelectorAll('.point path, .scatterlayer .js-line')) {
      const style = getComputedStyle(bar);
      const colour = bar.classList.contains('js-line') ? style.stroke : style.fill;
      if (PLOTLY_DEFAULTS.includes(colour)) problems.push(name + ': plotly purple');
    }
  }
  return problems;
}
""".replace("PLOTLY_DEFAULTS", str(sorted(PLOTLY_DEFAULTS)))


@pytest.mark.parametrize("width", WIDTHS)
def test_the_alerts_list_filters_and_pages(server, browser, shoot, monitored, width):
    context, page = _page(browser, server, monitored.users.reviewer, WIDTHS[width])
    page.goto(f"{server.url}/monitoring/")
    page.get_by_role("link", name="All alerts").click()
    page.wait_for_url(f"{server.url}/monitoring/alerts/")
    total = Alert.objects.count()
    assert page.get_by_role("heading", name=f"{total} alerts").is_visible()
    shoot(page, f"monitoring-alerts-{width}")
    assert _overflow(page) == 0
    page.get_by_label("Check").select_option(label="Data drift")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/monitoring/alerts/?*check=data_drift*")
    rows = page.locator("table.alert-list tbody tr")
    assert rows.count() == Alert.objects.filter(kind="data_drift").count() >= 1
    shoot(page, f"monitoring-alerts-filtered-{width}")
    rows.first.get_by_role("link").click()
    page.wait_for_url("**/monitoring/alerts/*/")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_alert_shows_its_evidence_and_charts(
    server, browser, shoot, monitored, width
):
    context, page = _page(browser, server, monitored.users.requester, WIDTHS[width])
    page.goto(f"{server.url}/monitoring/alerts/{monitored.drift_alert.pk}/")
    _wait_for_charts(page, 2)
    shoot(page, f"monitoring-alert-{width}")
    assert _overflow(page) == 0
    assert page.evaluate(CHART_PROBLEMS) == []
    evidence = page.locator("#evidence-heading + .evidence-columns").inner_text()
    assert "Wasserstein / reference std" in evidence
    assert "ks_pvalue" not in evidence
    assert page.get_by_role("link", name="Roll back to v1…").is_visible()
    # The history has one point per checked window, the thresholds in the legend.
    legend = page.locator('[data-chart="chart-history"] .legend').text_content()
    assert "warning threshold" in legend
    assert "critical threshold" in legend
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_dashboard_charts_are_readable(server, browser, shoot, monitored, width):
    context, page = _page(browser, server, monitored.users.reviewer, WIDTHS[width])
    page.goto(f"{server.url}/monitoring/deployments/{monitored.deployment.pk}/")
    _wait_for_charts(page, 8)
    shoot(page, f"monitoring-dashboard-{width}")
    assert _overflow(page) == 0
    assert page.evaluate(CHART_PROBLEMS) == []
    # Every statistic of the latest window, missing values included.
    statistics = page.locator("#statistics").inner_text()
    assert "Chi-square p-value" in statistics
    assert "KS p-value" in statistics
    if width == "wide":
        # Cards side by side have one height.
        heights = page.evaluate(
            """() => [...document.querySelectorAll('.chart-grid')].flatMap(grid => {
                const rows = {};
                for (const card of grid.querySelectorAll(':scope > .card')) {
                  const box = card.getBoundingClientRect();
                  (rows[Math.round(box.top)] ||= []).push(Math.round(box.height));
                }
                return Object.values(rows);
            })"""
        )
        assert heights
        assert all(max(row) - min(row) <= 1 for row in heights), heights
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_review_queue_count_and_pages_agree(
    server, browser, shoot, monitored, width
):
    context, page = _page(browser, server, monitored.users.reviewer, WIDTHS[width])
    page.goto(f"{server.url}/monitoring/")
    badge = page.locator('[aria-label="120 predictions waiting"]')
    assert badge.inner_text() == "120"
    page.get_by_role("link", name="Human review queue").click()
    seen = []
    while True:
        seen += page.locator("table.review tbody th a").all_inner_texts()
        assert _overflow(page) == 0
        next_page = page.get_by_role("link", name="Next →")
        if not next_page.count():
            break
        next_page.click()
        page.wait_for_load_state()
    shoot(page, f"monitoring-review-last-page-{width}")
    assert len(seen) == len(set(seen)) == 120
    context.close()
