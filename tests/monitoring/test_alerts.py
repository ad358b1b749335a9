"""Alerts: one per target, check and subject until resolved; severity from the
verdict and the risk class; opened, escalated, cleared by the checks;
acknowledged and resolved by people; notified, audited; retrain and rollback
on a high-risk model."""

import json

import pytest
from django.core import mail

from approvals.models import (
    DeploymentRequest,
    RequestKind,
    WebhookDelivery,
    WebhookEndpoint,
)
from audit.models import AuditEvent
from monitoring.models import Alert, AlertStatus
from monitoring.services.alerts import (
    alert_acknowledge,
    alert_resolve,
    alert_severity,
)
from tests.monitoring.batches import (
    check_all,
    hour_ago,
    ingest,
    monitoring_counts,
    prediction_rows,
    reference_rows,
    upload_reference,
)
from tests.monitoring.conftest import client_for

pytestmark = pytest.mark.django_db

ALERTS = "/api/v1/monitoring/alerts/"


def _slow_hour(world, hours_ago: int, scale: float = 60, batch_id=None):
    ingest(
        world,
        prediction_rows(
            400, start=hour_ago(hours_ago), latency_scale=scale, seed=hours_ago
        ),
        batch_id or f"h{hours_ago}",
    )


@pytest.fixture
def endpoint():
    return WebhookEndpoint.objects.create(
        name="pager", url="http://127.0.0.1:9/hook", secret="s3cret", events=["alert."]
    )


def _latency_alert():
    return Alert.objects.get(kind="latency")


def _events(action):
    return list(
        AuditEvent.objects.filter(action=action).values_list("scope", "target_id")
    )


@pytest.mark.parametrize(
    ("verdict", "risk", "expected"),
    [
        ("warning", "low", "low"),
        ("warning", "medium", "medium"),
        ("warning", "high", "high"),
        ("warning", "critical", "high"),
        ("critical", "low", "medium"),
        ("critical", "medium", "high"),
        ("critical", "high", "critical"),
        ("critical", "critical", "critical"),
    ],
)
def test_severity_comes_from_the_verdict_and_the_risk_class(verdict, risk, expected):
    assert alert_severity(verdict, risk) == expected


def test_a_failing_check_opens_one_alert_notified_and_audited(
    world, endpoint, django_capture_on_commit_callbacks
):
    _slow_hour(world, 3)
    with django_capture_on_commit_callbacks(execute=True):
        check_all()
    alert = _latency_alert()
    assert (alert.status, alert.severity, alert.subject, alert.occurrences) == (
        AlertStatus.OPEN,
        "critical",
        "p99",
        1,
    )
    assert alert.title == "Latency SLO: p99 latency above 150 ms"
    assert alert.first_window_start == alert.last_window_start == hour_ago(3)
    [delivery] = WebhookDelivery.objects.filter(event="alert.opened")
    data = json.loads(delivery.body)["data"]["alert"]
    assert (data["id"], data["model"], data["environment"], data["deployment_id"]) == (
        alert.pk,
        "credit-scoring",
        "production",
        world.deployment.pk,
    )
    assert data["url"].endswith(f"/monitoring/alerts/{alert.pk}/")
    # Critical: the owning team and the model's reviewers are mailed.
    assert sorted(m.to[0] for m in mail.outbox) == [
        "author@example.com",
        "requester@example.com",
        "reviewer1@example.com",
        "risk1@example.com",
    ]
    assert mail.outbox[0].subject == (
        "[Gatehouse] Alert opened: Latency SLO: p99 latency above 150 ms "
        "(credit-scoring, production)"
    )
    assert _events("alert.opened") == [("credit-scoring", str(alert.pk))]


def test_the_same_failure_in_later_windows_adds_occurrences_not_alerts(world, endpoint):
    _slow_hour(world, 4)
    check_all()
    _slow_hour(world, 3)
    _slow_hour(world, 2)
    check_all()  # windows 4, 3 and 2 fail: still one alert
    alert = _latency_alert()
    assert Alert.objects.filter(kind="latency").count() == 1
    assert alert.occurrences == 4  # window 4 checked twice, 3 and 2 once
    assert (alert.first_window_start, alert.last_window_start) == (
        hour_ago(4),
        hour_ago(2),
    )
    assert WebhookDelivery.objects.filter(event="alert.opened").count() == 1


def test_a_worse_failure_escalates_the_alert(world, endpoint):
    _slow_hour(world, 3, scale=35)
    check_all()
    alert = _latency_alert()
    assert alert.severity == "high"  # warning on a high-risk model
    _slow_hour(world, 2, scale=60)
    check_all()
    alert.refresh_from_db()
    assert alert.severity == "critical"
    assert WebhookDelivery.objects.filter(event="alert.escalated").count() == 1
    assert _events("alert.escalated") == [("credit-scoring", str(alert.pk))]


def test_a_later_passing_window_clears_but_does_not_resolve(world):
    _slow_hour(world, 3)
    _slow_hour(world, 2, scale=10)
    check_all()
    alert = _latency_alert()
    assert alert.status == AlertStatus.OPEN
    assert alert.cleared_at is not None
    assert _events("alert.cleared") == [("credit-scoring", str(alert.pk))]


def test_acknowledge_then_resolve(world, endpoint):
    _slow_hour(world, 3)
    check_all()
    alert = _latency_alert()
    acknowledged, problem = alert_acknowledge(
        actor=world.users.reviewer, alert_id=alert.pk, note="Looking at the pods."
    )
    assert (acknowledged.status, acknowledged.acknowledged_by, problem) == (
        AlertStatus.ACKNOWLEDGED,
        world.users.reviewer,
        None,  # latency is not in the retrain policy
    )
    resolved = alert_resolve(
        actor=world.users.requester, alert_id=alert.pk, note="Scaled out to 6 pods."
    )
    assert (resolved.status, resolved.resolved_by, resolved.note) == (
        AlertStatus.RESOLVED,
        world.users.requester,
        "Scaled out to 6 pods.",
    )
    assert [d.event for d in WebhookDelivery.objects.order_by("pk")] == [
        "alert.opened",
        "alert.acknowledged",
        "alert.resolved",
    ]
    assert [
        e[0] for e in _events("alert.acknowledged") + _events("alert.resolved")
    ] == [
        "credit-scoring",
        "credit-scoring",
    ]
    # A new failure after the resolution opens a new alert.
    _slow_hour(world, 2)
    check_all()
    assert Alert.objects.filter(kind="latency").count() == 2
    assert Alert.objects.filter(kind="latency", status="open").count() == 1


def test_state_changes_out_of_order_are_refused_and_change_nothing(world):
    from monitoring.errors import AlertStateInvalid, MonitoringInvalid

    _slow_hour(world, 3)
    check_all()
    alert = _latency_alert()
    with pytest.raises(MonitoringInvalid) as missing_note:
        alert_resolve(actor=world.users.requester, alert_id=alert.pk, note="  ")
    assert missing_note.value.fields == {
        "note": ["Say what was done (or why nothing needs doing)."]
    }
    alert_resolve(actor=world.users.requester, alert_id=alert.pk, note="Fixed.")
    before = monitoring_counts(), list(Alert.objects.values())
    for call in (
        lambda: alert_acknowledge(actor=world.users.requester, alert_id=alert.pk),
        lambda: alert_resolve(actor=world.users.requester, alert_id=alert.pk, note="x"),
    ):
        with pytest.raises(AlertStateInvalid):
            call()
    assert (monitoring_counts(), list(Alert.objects.values())) == before


def test_acknowledging_concept_drift_on_a_high_risk_model_opens_a_retrain_request(
    world,
):
    upload_reference(world, reference_rows())
    rows = prediction_rows(400, start=hour_ago(3))
    for index, row in enumerate(rows):
        row["label"] = index % 2  # labels unrelated to the score
    ingest(world, rows, "b")
    check_all()
    alert = Alert.objects.get(kind="concept_drift", subject="auc")
    acknowledged, problem = alert_acknowledge(
        actor=world.users.requester, alert_id=alert.pk
    )
    request = DeploymentRequest.objects.get(kind=RequestKind.RETRAIN)
    assert (problem, acknowledged.retrain_request) == (None, request)
    assert (request.version, request.environment.name, request.requested_by) == (
        world.v2,
        "production",
        world.users.requester,
    )
    assert f"Monitoring alert #{alert.pk}" in request.justification
    # The next concept-drift alert, acknowledged while that request is pending,
    # is acknowledged all the same, and says why no second request was opened.
    alert_resolve(actor=world.users.requester, alert_id=alert.pk, note="Retraining.")
    rows = prediction_rows(400, start=hour_ago(2), prefix="n")
    for index, row in enumerate(rows):
        row["label"] = index % 2
    ingest(world, rows, "c")
    check_all()
    again = Alert.objects.get(kind="concept_drift", subject="auc", status="open")
    acknowledged, problem = alert_acknowledge(
        actor=world.users.reviewer, alert_id=again.pk
    )
    assert acknowledged.status == AlertStatus.ACKNOWLEDGED
    assert acknowledged.retrain_request is None
    assert problem == (
        f"The request was not submitted. Request #{request.pk} for this version "
        "and environment is still pending."
    )
    assert DeploymentRequest.objects.filter(kind=RequestKind.RETRAIN).count() == 1


# --- Who may ----------------------------------------------------------------------


@pytest.fixture
def alert(world):
    _slow_hour(world, 3)
    check_all()
    return _latency_alert()


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("requester", 200),
        ("teammate", 200),
        ("reviewer", 200),
        ("risk_officer", 200),
        ("auditor", 403),
        ("validator", 403),
        ("stranger", 404),
        ("outsider", 404),
    ],
)
def test_who_may_acknowledge_an_alert(world, alert, person, status):
    client = client_for(getattr(world.users, person))
    before = list(Alert.objects.values())
    response = client.post(f"{ALERTS}{alert.pk}/acknowledge", {"note": "On it."})
    assert response.status_code == status, response.json()
    if status == 200:
        assert response.json()["status"] == "acknowledged"
        assert (
            response.json()["acknowledged_by"] == getattr(world.users, person).username
        )
    else:
        assert list(Alert.objects.values()) == before


def test_the_alert_list_shows_only_models_one_may_see(world, alert):
    mine = client_for(world.users.auditor).get(ALERTS, {"status": "open"})
    theirs = client_for(world.users.stranger).get(ALERTS)
    assert [a["id"] for a in mine.json()["results"]] == [alert.pk]
    assert theirs.json()["results"] == []
    assert (
        client_for(world.users.stranger).get(f"{ALERTS}{alert.pk}").status_code == 404
    )
    bad = client_for(world.users.auditor).get(ALERTS, {"status": "sleeping"})
    assert bad.status_code == 400
    assert list(bad.json()["fields"]) == ["status"]


def test_resolving_through_the_api_needs_a_note(world, alert):
    response = world.client.post(f"{ALERTS}{alert.pk}/resolve", {}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"note": ["This field is required."]}
    done = world.client.post(
        f"{ALERTS}{alert.pk}/resolve", {"note": "Rolled back."}, format="json"
    )
    assert (done.status_code, done.json()["status"]) == (200, "resolved")
