"""The alert pages (issue #14, item 12): the list of alerts across deployments
with its filters and pages, an alert's evidence and charts, and the human
review queue's pages."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Alert, MonitoringBatch, MonitoringTarget, ReviewItem
from tests.monitoring.batches import (
    check_all,
    hour_ago,
    ingest,
    prediction_rows,
    reference_rows,
    upload_reference,
)

pytestmark = pytest.mark.django_db

ALERTS = reverse("monitoring:alert-list")


@pytest.fixture
def target(world):
    ingest(world, prediction_rows(40, start=hour_ago(3)), "b")
    return MonitoringTarget.objects.get()


def _alerts(target, count: int, **fields) -> list[Alert]:
    now = timezone.now()
    return Alert.objects.bulk_create(
        [
            Alert(
                target=target,
                kind=fields.get("kind", "kpi"),
                subject=f"kpi-{index}",
                severity=fields.get("severity", "high"),
                status=fields.get("status", "open"),
                title=f"KPI: kpi-{index} misses its target",
                first_window_start=hour_ago(3),
                last_window_start=hour_ago(3),
                opened_at=fields.get("opened_at", now) - timedelta(minutes=index),
            )
            for index in range(count)
        ]
    )


def _ids(response) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(
            r'href="/monitoring/alerts/(\d+)/"', response.content.decode()
        )
    ]


@pytest.mark.parametrize(
    ("person", "sees"),
    [
        ("requester", True),
        ("reviewer", True),
        ("risk_officer", True),
        ("auditor", True),
        ("stranger", False),
        ("outsider", False),
    ],
)
def test_who_sees_which_alerts(world, client, target, person, sees):
    [alert] = _alerts(target, 1)
    client.force_login(getattr(world.users, person))
    response = client.get(ALERTS)
    assert response.status_code == 200
    assert _ids(response) == ([alert.pk] if sees else [])
    if not sees:
        assert b"No alert on the models you may see." in response.content
        assert b"credit-scoring" not in response.content


def test_anonymous_people_are_sent_to_sign_in(client):
    response = client.get(ALERTS)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_filters_narrow_the_list(world, client, target):
    open_high = _alerts(target, 2)
    resolved = Alert.objects.create(
        target=target,
        kind="latency",
        subject="",
        severity="critical",
        status="resolved",
        title="Latency: p99 latency above 150 ms",
        first_window_start=hour_ago(3),
        last_window_start=hour_ago(3),
        opened_at=timezone.now() - timedelta(days=3),
        acknowledged_at=timezone.now() - timedelta(days=2),
        acknowledged_by=world.users.reviewer,
        resolved_at=timezone.now() - timedelta(days=2),
        resolved_by=world.users.reviewer,
        note="Fixed.",
    )
    client.force_login(world.users.reviewer)
    everything = {alert.pk for alert in open_high} | {resolved.pk}
    today = timezone.now().date()
    cases = {
        "status=open": {a.pk for a in open_high},
        "status=resolved": {resolved.pk},
        "severity=critical": {resolved.pk},
        "check=latency": {resolved.pk},
        "check=kpi&severity=high": {a.pk for a in open_high},
        "model=credit-scoring": everything,
        "environment=production": everything,
        f"opened_from={today}": {a.pk for a in open_high},
        f"opened_to={today - timedelta(days=2)}": {resolved.pk},
    }
    for query, expected in cases.items():
        response = client.get(f"{ALERTS}?{query}")
        assert response.status_code == 200, query
        assert set(_ids(response)) == expected, query
    page = client.get(ALERTS).content.decode()
    # Choices, not free text: the models and environments one may see.
    assert '<option value="credit-scoring">credit-scoring</option>' in page
    assert '<option value="production">Production</option>' in page
    assert '<option value="data_drift">Data drift</option>' in page


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=sleeping", "status"),
        ("severity=dire", "severity"),
        ("check=vibes", "check"),
        ("model=someone-elses", "model"),
        ("opened_from=yesterday", "opened_from"),
        ("opened_from=2026-03-02&opened_to=2026-03-01", "opened_to"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(world, client, target, query, field):
    _alerts(target, 1)
    client.force_login(world.users.reviewer)
    response = client.get(f"{ALERTS}?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(
        rf'<label for="id_{field}">.*?<span class="error" role="alert">', html, re.S
    )
    assert error, query
    assert _ids(response) == []


def test_the_list_pages_through_alerts_in_a_fixed_number_of_queries(
    world, client, target, django_assert_max_num_queries
):
    _alerts(target, 3)
    client.force_login(world.users.reviewer)
    with django_assert_max_num_queries(30) as few:
        client.get(ALERTS)
    Alert.objects.all().delete()
    alerts = _alerts(target, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        first = client.get(ALERTS)
    assert _ids(first) == [alert.pk for alert in alerts[:25]]
    assert b"60 alerts" in first.content
    assert b"Page 1 of 3" in first.content
    last = client.get(ALERTS, {"page": 3, "status": "open"})
    assert _ids(last) == [alert.pk for alert in alerts[50:]]
    assert b'href="?page=2&amp;status=open" rel="prev"' in last.content


def _review_items(target, count: int):
    window = target.windows.get()
    batch = MonitoringBatch.objects.get()
    ReviewItem.objects.all().delete()  # the batch queued a few already
    ReviewItem.objects.bulk_create(
        [
            ReviewItem(
                target=target,
                window=window,
                batch=batch,
                prediction_id=f"q{index:03d}",
                predicted_at=hour_ago(3),
                confidence=index / 1000,
            )
            for index in range(count)
        ]
    )


def test_the_review_queue_pages_so_its_count_and_its_rows_agree(
    world, client, target, django_assert_max_num_queries
):
    _review_items(target, 120)
    client.force_login(world.users.reviewer)
    overview = client.get(reverse("monitoring:overview")).content.decode()
    assert 'aria-label="120 predictions waiting">120</span>' in overview
    pages = []
    for number in (1, 2, 3):
        with django_assert_max_num_queries(12):
            response = client.get(reverse("monitoring:review-queue"), {"page": number})
        html = response.content.decode()
        assert 'aria-label="120 predictions waiting">120</span>' in html
        pages.append(re.findall(r'href="/monitoring/review/\d+/">(q\d+)</a>', html))
    assert [len(page) for page in pages] == [50, 50, 20]
    assert [name for page in pages for name in page] == [
        f"q{index:03d}" for index in range(120)
    ]
    assert b"Page 3 of 3" in response.content


def _data_drift_alert(world) -> Alert:
    upload_reference(world, reference_rows())
    ingest(world, prediction_rows(400, start=hour_ago(4), seed=1), "calm")
    ingest(
        world,
        prediction_rows(400, start=hour_ago(3), seed=2, income_mean=70_000),
        "shifted",
    )
    check_all()
    return Alert.objects.get(kind="data_drift", subject="income")


def _figure(html: str, chart: str) -> dict:
    block = re.search(
        rf'<script type="application/json" id="{chart}">(.*?)</script>', html, re.S
    )
    return json.loads(block.group(1))


def test_the_alert_page_shows_labelled_evidence_and_both_charts(world, client):
    alert = _data_drift_alert(world)
    client.force_login(world.users.auditor)
    html = client.get(reverse("monitoring:alert-detail", args=[alert.pk])).content
    html = html.decode()
    # Labelled, in a reading order: no stored keys, no alphabetical dump.
    for label in (
        "Decided on",
        "Wasserstein / reference std",
        "KS p-value",
        "Warning threshold",
        "Critical threshold",
        "Values in the window",
    ):
        assert f"<dt>{label}</dt>" in html or f"<strong>{label}</strong>" in html, label
    for key in (
        "ks_pvalue",
        "Ks pvalue",
        "Statistics",
        "Window start",
        "Reference count",
    ):
        assert f"<dt>{key}</dt>" not in html, key
    history = _figure(html, "chart-history")
    assert [point[:13] for point in history["data"][0]["x"]] == [
        hour_ago(4).isoformat()[:13],
        hour_ago(3).isoformat()[:13],
    ]
    assert history["data"][0]["y"][1] == pytest.approx(alert.details["score"])
    assert [shape["name"] for shape in history["layout"]["shapes"]] == [
        "warning threshold",
        "critical threshold",
    ]
    distribution = _figure(html, "chart-distribution")
    assert [trace["name"] for trace in distribution["data"]] == [
        "reference",
        "alert's latest window",
    ]
    assert "per reference std" in distribution["layout"]["yaxis"]["title"]["text"]


def test_an_alert_that_passes_again_says_so_without_contradiction(world, client):
    alert = _data_drift_alert(world)
    alert.cleared_at = timezone.now()
    alert.save(update_fields=["cleared_at"])
    client.force_login(world.users.reviewer)
    page = client.get(reverse("monitoring:alert-detail", args=[alert.pk])).content
    assert b"cleared since" not in page
    assert b"The check has passed again since" in page
    assert b"stays open until someone resolves it" in page
    listed = client.get(ALERTS).content
    assert b"cleared since" not in listed
    assert b"check passing again since" in listed


def test_the_rollback_box_names_the_version_it_goes_back_to(world, client):
    alert = _data_drift_alert(world)
    client.force_login(world.users.requester)
    page = client.get(reverse("monitoring:alert-detail", args=[alert.pk])).content
    assert b"Roll back to v1\xe2\x80\xa6</a>" in page
    assert b"roll back to v1, the version it replaced" in page
    assert b"Roll back deployment #" not in page
