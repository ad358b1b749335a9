"""The Celery tasks of monitoring (eagerly): idempotent application, retries
and giving up, the pending-batch sweeper, the window checks, the beat schedule."""

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring import tasks
from monitoring.models import (
    BatchStatus,
    CheckResult,
    MonitoringBatch,
    MonitoringWindow,
    PredictionRecord,
)
from monitoring.services import aggregation
from monitoring.services.aggregation import apply as batch_application
from monitoring.services.ingestion import batch_receive
from portal.celery import app
from tests.monitoring.batches import hour_ago, json_rows, prediction_rows

pytestmark = pytest.mark.django_db


def _receive(world, batch_id="b", rows=None, **extra):
    rows = rows or prediction_rows(50, start=hour_ago(3))
    return batch_receive(
        actor=world.users.requester,
        model_name="credit-scoring",
        environment_name="production",
        kind="predictions",
        body=json_rows(batch_id, rows),
        content_type="application/json",
        **extra,
    ).batch


def test_beat_sweeps_pending_batches_every_minute_and_checks_every_5_minutes(
    settings,
):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["monitoring-sweep-pending-batches"] == {
        "task": "monitoring.tasks.sweep_pending_batches",
        "schedule": timedelta(minutes=1),
    }
    assert schedule["monitoring-check-due-windows"] == {
        "task": "monitoring.tasks.check_due_windows",
        "schedule": timedelta(minutes=5),
    }
    assert schedule["monitoring-prune"] == {
        "task": "monitoring.tasks.prune_monitoring",
        "schedule": timedelta(hours=24),
    }
    app.loader.import_default_modules()
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_applying_a_batch_twice_counts_it_once(world):
    batch = _receive(world)
    assert tasks.apply_batch.delay(batch.pk).get() == BatchStatus.APPLIED
    assert tasks.apply_batch.delay(batch.pk).get() is None
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == (BatchStatus.APPLIED, 1)
    window = MonitoringWindow.objects.get()
    assert (window.prediction_count, window.revision) == (50, 1)
    assert PredictionRecord.objects.count() == 50


def test_a_failing_batch_keeps_its_error_and_is_given_up_after_the_attempts(
    world, settings, monkeypatch
):
    settings.MONITORING_APPLY_MAX_ATTEMPTS = 3
    batch = _receive(world)

    def broken(*args, **kwargs):
        raise ValueError("profile bins changed under the batch")

    monkeypatch.setattr(batch_application, "apply_predictions", broken)
    for attempt in (1, 2, 3):
        with pytest.raises(ValueError, match="profile bins changed"):
            tasks.apply_batch(batch.pk)
        batch.refresh_from_db()
        assert (batch.status, batch.attempts) == (BatchStatus.PENDING, attempt)
        assert batch.error == "ValueError: profile bins changed under the batch"
    assert tasks.apply_batch(batch.pk) is None
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED
    assert batch.error == (
        "Gave up after 3 attempts. ValueError: profile bins changed under the batch"
    )
    assert MonitoringWindow.objects.count() == 0


def test_the_sweeper_enqueues_batches_left_pending_and_only_those(
    world, settings, time_machine
):
    settings.MONITORING_SWEEP_AFTER_SECONDS = 120
    now = timezone.now()
    time_machine.move_to(now - timedelta(minutes=5), tick=False)
    stale = _receive(world, "stale")
    applied = _receive(world, "applied", prediction_rows(20, start=hour_ago(4)))
    aggregation.batch_apply(batch_id=applied.pk)
    time_machine.move_to(now - timedelta(seconds=30), tick=False)
    fresh = _receive(world, "fresh", prediction_rows(20, start=hour_ago(2)))
    time_machine.move_to(now, tick=False)

    assert tasks.sweep_pending_batches.delay().get() == 1

    statuses = dict(MonitoringBatch.objects.values_list("batch_id", "status"))
    assert statuses == {"stale": "applied", "applied": "applied", "fresh": "pending"}
    stale.refresh_from_db()
    assert stale.enqueued_at == now
    fresh.refresh_from_db()
    assert fresh.attempts == 0  # not re-enqueued: it is not stale yet


def test_the_sweeper_waits_again_after_enqueueing(world, settings, time_machine):
    settings.MONITORING_SWEEP_AFTER_SECONDS = 120
    now = timezone.now()
    time_machine.move_to(now - timedelta(minutes=5), tick=False)
    batch = _receive(world)
    time_machine.move_to(now, tick=False)
    assert aggregation.batches_due() == [batch.pk]
    assert aggregation.batches_due() == []  # marked enqueued now
    time_machine.move_to(now + timedelta(seconds=121), tick=False)
    assert aggregation.batches_due() == [batch.pk]


def test_check_due_windows_checks_closed_changed_windows(world):
    aggregation.batch_apply(batch_id=_receive(world).pk)
    open_rows = prediction_rows(10, start=hour_ago(0), spread_seconds=1)
    aggregation.batch_apply(batch_id=_receive(world, "now", open_rows).pk)
    assert tasks.check_due_windows.delay().get() == 1
    checked = MonitoringWindow.objects.get(start=hour_ago(3))
    still_open = MonitoringWindow.objects.get(start=hour_ago(0))
    assert (checked.needs_check, checked.checked_revision) == (False, 1)
    assert still_open.needs_check is True
    assert CheckResult.objects.filter(window=checked).exists()
    assert not CheckResult.objects.filter(window=still_open).exists()
    assert tasks.check_due_windows.delay().get() == 0
