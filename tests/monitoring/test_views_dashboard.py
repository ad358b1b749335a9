"""The monitoring pages: the overview and a deployment's dashboard. Who may see
them (anyone who may see the model; 404 otherwise), what they show, charts as
data blocks drawn by static JS (no inline script), and a fixed number of
queries whatever the number of windows."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from tests.monitoring.batches import (
    check_all,
    hour_ago,
    ingest,
    prediction_rows,
    reference_rows,
    upload_reference,
)

pytestmark = pytest.mark.django_db


def _dashboard(world, **query):
    return reverse("monitoring:dashboard", args=[world.deployment.pk]), query


def _fill(world, hours: int, first: int = 3):
    if first == 3:
        upload_reference(world, reference_rows())
    for hour in range(first, first + hours):
        ingest(
            world,
            prediction_rows(60, start=hour_ago(hour), seed=hour, labels=True),
            f"h{hour}",
        )
    ingest(
        world,
        [
            {
                "timestamp": hour_ago(h).isoformat(),
                "name": "approval_rate",
                "value": 0.55,
            }
            for h in range(first, first + hours)
        ],
        f"kpis{first}",
        kind="metrics",
    )
    check_all()


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("requester", 200),
        ("teammate", 200),
        ("reviewer", 200),
        ("validator", 200),
        ("auditor", 200),
        ("stranger", 404),
        ("outsider", 404),
    ],
)
def test_who_may_see_the_dashboard(world, client, person, status):
    client.force_login(getattr(world.users, person))
    path, query = _dashboard(world)
    assert client.get(path, query).status_code == status


def test_anonymous_people_are_sent_to_sign_in(world, client):
    path, _ = _dashboard(world)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_deployment_without_data_says_so(world, client):
    client.force_login(world.users.requester)
    path, _ = _dashboard(world)
    response = client.get(path)
    assert b"No monitoring data has been received for v2 in Production yet." in (
        response.content
    )


def test_the_dashboard_draws_every_chart_from_data_blocks_without_inline_scripts(
    world, client
):
    _fill(world, hours=3)
    client.force_login(world.users.requester)
    path, query = _dashboard(world, days=1, feature="region")
    response = client.get(path, query)
    html = response.content.decode()
    charts = re.findall(r'data-chart="(chart-[a-z]+)"', html)
    assert charts == [
        "chart-drift",
        "chart-distribution",
        "chart-latency",
        "chart-performance",
        "chart-kpis",
        "chart-fairness",
        "chart-segments",
        "chart-volume",
    ]
    scripts = re.findall(r"<script([^>]*)>", html)
    executable = [s for s in scripts if 'type="application/json"' not in s]
    assert executable == [
        ' src="/static/vendor/plotly/plotly.min.js" defer',
        ' src="/static/js/monitoring-charts.js" defer',
    ]
    for chart in charts:
        block = re.search(
            rf'<script type="application/json" id="{chart}">(.*?)</script>', html, re.S
        )
        figure = json.loads(block.group(1))
        assert set(figure) >= {"data", "layout"}, chart
    drift = json.loads(
        re.search(
            r'<script type="application/json" id="chart-drift">(.*?)</script>',
            html,
            re.S,
        ).group(1)
    )
    assert drift["data"][0]["type"] == "heatmap"
    assert drift["data"][0]["y"] == ["income", "region"]
    assert len(drift["data"][0]["x"]) == 3
    assert "region: reference and the last 24 hours" in html
    assert 'aria-current="page">Monitoring</a>' in html


def test_the_dashboard_makes_a_fixed_number_of_queries(
    world, client, django_assert_max_num_queries
):
    _fill(world, hours=2)
    client.force_login(world.users.requester)
    path, _ = _dashboard(world)
    with django_assert_max_num_queries(20) as few:
        client.get(path)
    _fill(world, hours=6, first=5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(path)


def test_the_overview_lists_monitored_versions_one_may_see(world, client):
    ingest(world, prediction_rows(40, start=hour_ago(3)), "b")
    client.force_login(world.users.auditor)
    page = client.get(reverse("monitoring:overview"))
    assert page.status_code == 200
    link = reverse("monitoring:dashboard", args=[world.deployment.pk])
    assert f'href="{link}"'.encode() in page.content
    client.force_login(world.users.stranger)
    theirs = client.get(reverse("monitoring:overview"))
    assert link.encode() not in theirs.content
    assert b"No model you may see has received monitoring data yet." in theirs.content


def test_the_alert_page_offers_the_rollback_on_a_high_risk_model(world, client):
    ingest(world, prediction_rows(400, start=hour_ago(3), latency_scale=60), "b")
    check_all()
    from monitoring.models import Alert

    alert = Alert.objects.get(kind="latency")
    page = reverse("monitoring:alert-detail", args=[alert.pk])
    rollback = reverse("approvals:deployment-rollback", args=[world.deployment.pk])
    client.force_login(world.users.requester)
    mine = client.get(page)
    assert mine.status_code == 200
    assert f'href="{rollback}"'.encode() in mine.content
    assert b"Acknowledge" in mine.content
    client.force_login(world.users.auditor)
    theirs = client.get(page)
    assert theirs.status_code == 200
    assert rollback.encode() not in theirs.content
    assert b'action="/monitoring/alerts/' not in theirs.content
    assert (
        client.post(
            reverse("monitoring:alert-acknowledge", args=[alert.pk]), {}
        ).status_code
        == 403
    )
    client.force_login(world.users.outsider)
    assert client.get(page).status_code == 404


def test_acknowledging_and_resolving_in_the_browser(world, client):
    ingest(world, prediction_rows(400, start=hour_ago(3), latency_scale=60), "b")
    check_all()
    from monitoring.models import Alert

    alert = Alert.objects.get(kind="latency")
    client.force_login(world.users.reviewer)
    acknowledged = client.post(
        reverse("monitoring:alert-acknowledge", args=[alert.pk]), {"note": "Paging."}
    )
    assert acknowledged.status_code == 302
    empty = client.post(reverse("monitoring:alert-resolve", args=[alert.pk]), {})
    assert empty.status_code == 400
    assert b"This field is required." in empty.content
    resolved = client.post(
        reverse("monitoring:alert-resolve", args=[alert.pk]), {"note": "Fixed."}
    )
    assert resolved.status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.note) == ("resolved", "Fixed.")


def test_long_periods_are_drawn_day_by_day_from_the_daily_roll_ups(world, client):
    _fill(world, hours=3)
    client.force_login(world.users.requester)
    path, _ = _dashboard(world)
    html = client.get(path, {"days": 30, "feature": "region"}).content.decode()
    assert '<option value="30" selected>30 days</option>' in html
    assert "region: reference and the last 24 hours" in html
    drift = json.loads(
        re.search(
            r'<script type="application/json" id="chart-drift">(.*?)</script>',
            html,
            re.S,
        ).group(1)
    )["data"][0]
    days = sorted({hour_ago(h).date().isoformat() for h in (3, 4, 5)})
    assert drift["x"] == days
    from monitoring.models import MonitoringWindow

    for row, feature in zip(drift["z"], drift["y"], strict=True):
        expected = [
            max(
                w.drift[feature]
                for w in MonitoringWindow.objects.all()
                if w.start.date().isoformat() == day
            )
            for day in days
        ]
        assert row == pytest.approx(expected, abs=1e-4)
    latency = json.loads(
        re.search(
            r'<script type="application/json" id="chart-latency">(.*?)</script>',
            html,
            re.S,
        ).group(1)
    )["data"]
    assert [trace["name"] for trace in latency] == ["p50", "p95", "p99"]
    assert latency[2]["x"] == days


def test_the_dashboard_shows_the_30_day_latency_error_budget(world, client):
    from monitoring.models import MonitoringTarget, MonitoringWindow
    from monitoring.selectors import error_budget
    from monitoring.services.aggregation import load_latency
    from monitoring.windows import share_above

    ingest(world, prediction_rows(300, start=hour_ago(4), latency_scale=60), "slow")
    ingest(world, prediction_rows(300, start=hour_ago(3), latency_scale=5), "fast")
    check_all()
    target = MonitoringTarget.objects.get()
    slo = float(world.model.latency_slo_ms)
    windows = MonitoringWindow.objects.filter(target=target)
    slow = sum(
        round(share_above(load_latency(w.latency_profile), slo) * w.latency_count)
        for w in windows
    )
    budget = error_budget(target)
    assert (budget.requests, budget.slow) == (600, slow)
    assert budget.percentile == world.model.latency_slo_percentile
    allowed = 1 - budget.percentile / 100
    assert budget.consumed == pytest.approx(slow / 600 / allowed)
    assert budget.remaining == round(allowed * 600) - slow
    client.force_login(world.users.reviewer)
    html = client.get(_dashboard(world)[0]).content.decode()
    assert 'id="error-budget"' in html
    assert f"{slow:,} of 600 were" in html
    # Windows older than the period do not count.
    MonitoringWindow.objects.filter(start=hour_ago(4)).update(
        start=hour_ago(4) - timedelta(days=31)
    )
    assert error_budget(target).requests == 300


def _statistics_section(html: str) -> str:
    return html[html.index('id="statistics"') : html.index('id="distribution-heading"')]


def test_a_table_under_the_heatmap_shows_every_statistic_of_the_latest_window(
    world, client
):
    _fill(world, hours=2)
    from monitoring.models import CheckResult, MonitoringWindow

    latest = MonitoringWindow.objects.order_by("-start").first()
    region = CheckResult.objects.get(window=latest, kind="data_drift", subject="region")
    client.force_login(world.users.auditor)
    html = client.get(_dashboard(world)[0]).content.decode()
    section = _statistics_section(html)
    assert f"window starting {latest.start:%Y-%m-%d %H:%M} UTC" in section
    for label in (
        "KS p-value",
        "Wasserstein / reference std",
        "PSI",
        "Chi-square p-value",
        "Chi-square degrees of freedom",
        "Share in categories the reference never had",
    ):
        assert f">{label}</th>" in section, label
    chi2 = region.details["statistics"]["chi2_pvalue"]
    assert (f"{chi2:.4f}" if chi2 >= 1e-3 else f"{chi2:.2e}") in section
    assert "ks_pvalue" not in section
    assert "chi2_dof" not in section


def test_the_table_shows_the_window_picked_and_missing_values(world, client):
    _fill(world, hours=2)
    rows = prediction_rows(60, start=hour_ago(6), seed=9)
    for row in rows[:6]:
        row["income"] = float("nan")
    ingest(world, rows, "with-nan")
    check_all()
    from monitoring.models import MonitoringWindow

    picked = MonitoringWindow.objects.get(start=hour_ago(6))
    client.force_login(world.users.requester)
    path, _ = _dashboard(world)
    html = client.get(path, {"window": picked.pk}).content.decode()
    section = _statistics_section(html)
    assert f"window starting {picked.start:%Y-%m-%d %H:%M} UTC" in section
    assert f'<option value="{picked.pk}" selected>' in section
    assert '<td class="number">6 <span class="help-inline">(10.00%)</span></td>' in (
        section
    )
    # A window of another deployment, or none at all, falls back to the latest.
    other = client.get(path, {"window": 999_999}).content.decode()
    assert f"window starting {hour_ago(3):%Y-%m-%d %H:%M} UTC" in other
