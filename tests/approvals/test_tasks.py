"""The Celery tasks of approvals: the outbox sweeper, webhook delivery, email
sending with retries, request expiry, and their beat schedule."""

import smtplib
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from kombu.exceptions import OperationalError

from approvals import tasks
from approvals.models import DeliveryStatus, RequestStatus, WebhookDelivery
from approvals.tasks import (
    deliver_webhook,
    expire_stale_requests,
    send_notification_email,
    sweep_webhook_outbox,
)
from approvals.webhooks import webhook_event_record
from audit.models import AuditEvent
from kernel import roles
from portal.celery import app
from tests.approvals import factories
from tests.approvals.webhook_receiver import WebhookReceiver
from tests.conftest import make_user
from tests.models_registry import factories as registry_factories

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
DATA = {"deployment": {"id": 7}}


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.stop()


@pytest.fixture
def endpoint(receiver):
    return factories.make_endpoint(url=receiver.url)


def _row(endpoint, **values):
    values.setdefault("body", '{"id":0}')
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event="deployment.executed", **values
    )


# --- Beat schedule ------------------------------------------------------------------


def test_beat_runs_the_sweeper_every_minute_and_expiry_every_15_minutes(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["approvals-webhook-outbox-sweep"] == {
        "task": "approvals.tasks.sweep_webhook_outbox",
        "schedule": timedelta(minutes=1),
    }
    assert schedule["approvals-expire-stale-requests"] == {
        "task": "approvals.tasks.expire_stale_requests",
        "schedule": timedelta(minutes=15),
    }
    app.loader.import_default_modules()
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


# --- Webhook outbox -----------------------------------------------------------------


def test_deliver_webhook_returns_the_new_status(receiver, endpoint):
    delivery = _row(endpoint)
    assert deliver_webhook.delay(delivery.pk).get() == DeliveryStatus.DELIVERED
    assert deliver_webhook.delay(delivery.pk).get() is None
    assert len(receiver.received) == 1


def test_the_sweeper_sends_due_pending_deliveries_only(
    receiver, endpoint, time_machine
):
    time_machine.move_to(START, tick=False)
    due = _row(endpoint, next_attempt_at=START - timedelta(minutes=5))
    not_due = _row(endpoint, next_attempt_at=START + timedelta(seconds=1))
    _row(endpoint, status=DeliveryStatus.DELIVERED, attempts=1)
    _row(endpoint, status=DeliveryStatus.FAILED, attempts=6)

    assert sweep_webhook_outbox.delay().get() == 1

    assert [r.headers["X-Gatehouse-Delivery"] for r in receiver.received] == [
        str(due.pk)
    ]
    not_due.refresh_from_db()
    assert (not_due.status, not_due.attempts) == (DeliveryStatus.PENDING, 0)


def test_the_sweeper_sends_a_retry_once_its_backoff_has_passed(
    receiver, endpoint, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(START, tick=False)
    receiver.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = webhook_event_record(event="deployment.executed", data=DATA)
    receiver.status = 200

    time_machine.move_to(START + timedelta(seconds=29), tick=False)
    assert sweep_webhook_outbox.delay().get() == 0
    time_machine.move_to(START + timedelta(seconds=30), tick=False)
    assert sweep_webhook_outbox.delay().get() == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        2,
        200,
    )
    assert len(receiver.received) == 2


def test_a_broker_outage_at_commit_is_covered_by_the_sweeper(
    receiver, endpoint, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(tasks.deliver_webhook, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = webhook_event_record(event="deployment.executed", data=DATA)
    # The committed change stands; the lost enqueue is only logged.
    assert "Error 111 connecting" in caplog.text
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert receiver.received == []

    monkeypatch.undo()
    assert sweep_webhook_outbox.delay().get() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    assert len(receiver.received) == 1


# --- Email ----------------------------------------------------------------------------


class FlakySMTPBackend(BaseEmailBackend):
    """Stands in for an SMTP server: raises the queued errors, then accepts."""

    errors: list[Exception] = []
    attempts = 0

    def send_messages(self, email_messages):
        type(self).attempts += 1
        if type(self).errors:
            raise type(self).errors.pop(0)
        mail.outbox.extend(email_messages)
        return len(email_messages)


@pytest.fixture
def smtp(settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.FlakySMTPBackend"
    FlakySMTPBackend.errors = []
    FlakySMTPBackend.attempts = 0
    # An eager retry re-runs the task at once; it must not raise in between.
    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield FlakySMTPBackend
    app.conf.task_eager_propagates = propagates
    FlakySMTPBackend.errors = []


def _send_email():
    """Run the task as a worker would, retries included (eagerly, so without
    their countdown); return its final result."""
    return send_notification_email.apply(
        kwargs={
            "recipient": "dana@example.com",
            "subject": "[Gatehouse] Hello",
            "body": "Text.",
        }
    )


def test_an_email_is_sent_to_its_one_recipient(smtp, mailoutbox, settings):
    assert _send_email().state == "SUCCESS"
    [message] = mailoutbox
    assert (message.to, message.subject, message.body, message.from_email) == (
        ["dana@example.com"],
        "[Gatehouse] Hello",
        "Text.",
        settings.DEFAULT_FROM_EMAIL,
    )


def test_transient_smtp_errors_are_retried(smtp, mailoutbox):
    smtp.errors = [
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        smtplib.SMTPResponseException(421, b"Service not available, try later"),
        ConnectionRefusedError(111, "Connection refused"),
    ]
    assert _send_email().state == "SUCCESS"
    assert smtp.attempts == 4
    assert [message.to for message in mailoutbox] == [["dana@example.com"]]


def test_a_permanent_smtp_error_is_not_retried(smtp, mailoutbox):
    smtp.errors = [
        smtplib.SMTPRecipientsRefused({"dana@example.com": (550, b"No such user")})
    ]
    result = _send_email()
    assert (result.state, type(result.result)) == (
        "FAILURE",
        smtplib.SMTPRecipientsRefused,
    )
    assert smtp.attempts == 1
    assert mailoutbox == []


def test_email_retries_stop_after_the_limit(smtp, mailoutbox):
    smtp.errors = [
        smtplib.SMTPServerDisconnected("gone")
        for _ in range(tasks.EMAIL_MAX_RETRIES + 2)
    ]
    result = _send_email()
    assert (result.state, type(result.result)) == (
        "FAILURE",
        smtplib.SMTPServerDisconnected,
    )
    assert smtp.attempts == 1 + tasks.EMAIL_MAX_RETRIES
    assert mailoutbox == []


# --- Expiry -------------------------------------------------------------------------


def test_expiry_closes_pending_requests_whose_window_has_ended(
    team, mailoutbox, endpoint, django_capture_on_commit_callbacks
):
    requester = make_user(
        "dana", roles.DATA_SCIENTIST, team=team, email="dana@example.com"
    )
    model = registry_factories.make_model(requester, team, name="credit-scoring")
    version = registry_factories.make_version(requester, model)
    now = timezone.now()
    stale = factories.make_request(
        version=version,
        requested_by=requester,
        environment_name="staging",
        expires_at=now - timedelta(minutes=1),
    )
    fresh = factories.make_request(
        version=version,
        requested_by=requester,
        expires_at=now + timedelta(hours=1),
    )
    audit_before = AuditEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        assert expire_stale_requests.delay().get() == 1

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, stale.closing_comment) == (
        RequestStatus.EXPIRED,
        "Approval window ended.",
    )
    assert stale.closed_at is not None
    assert fresh.status == RequestStatus.PENDING
    assert list(
        AuditEvent.objects.order_by("sequence").values_list("action", flat=True)[
            audit_before:
        ]
    ) == ["request.expired"]
    assert [message.subject for message in mailoutbox] == [
        f"[Gatehouse] Request #{stale.pk} expired: credit-scoring v1 to staging"
    ]
    assert list(WebhookDelivery.objects.values_list("event", "status")) == [
        ("request.expired", DeliveryStatus.DELIVERED)
    ]

    with django_capture_on_commit_callbacks(execute=True):
        assert expire_stale_requests.delay().get() == 0
