"""Retention: old batch payloads are cleared and old label-join rows deleted,
aggregates stay, every sweep that removes something is audited once, and 0
keeps everything."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from monitoring.models import (
    BatchStatus,
    MonitoringBatch,
    MonitoringWindow,
    PredictionRecord,
)
from monitoring.services.payloads import payload_read
from monitoring.services.retention import monitoring_prune
from monitoring.tasks import prune_monitoring
from tests.monitoring import batches
from tests.monitoring.batches import (
    PREDICTIONS,
    hour_ago,
    json_rows,
    post_json,
    prediction_rows,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(world, django_capture_on_commit_callbacks):
    """Two applied prediction batches in two hours; the first made old."""
    with django_capture_on_commit_callbacks(execute=True):
        for name, hours in (("old", 5), ("new", 3)):
            rows = prediction_rows(30, start=hour_ago(hours), prefix=name)
            response = post_json(world.client, url(PREDICTIONS), json_rows(name, rows))
            assert response.status_code == 202
    old = MonitoringBatch.objects.get(batch_id="old")
    new = MonitoringBatch.objects.get(batch_id="new")
    assert {old.status, new.status} == {BatchStatus.APPLIED}
    long_ago = timezone.now() - timedelta(days=200)
    MonitoringBatch.objects.filter(pk=old.pk).update(applied_at=long_ago)
    old_window = MonitoringWindow.objects.get(start=hour_ago(5))
    MonitoringWindow.objects.filter(pk=old_window.pk).update(
        start=old_window.start - timedelta(days=200)
    )
    return old, new, old_window


def _retention_events():
    return list(AuditEvent.objects.filter(action="monitoring.retention_applied"))


def test_old_payloads_and_label_join_rows_go_and_aggregates_stay(pushed, settings):
    settings.MONITORING_PAYLOAD_RETENTION_DAYS = 90
    settings.MONITORING_LABEL_JOIN_DAYS = 180
    old, new, old_window = pushed
    assert PredictionRecord.objects.count() == 60
    pruned = monitoring_prune()
    assert pruned.payloads_cleared == 1
    assert pruned.payload_bytes_cleared == old.body_bytes
    assert pruned.label_join_rows_deleted == 30
    old.refresh_from_db()
    assert payload_read(old.pk) == b""
    assert old.payload_pruned_at is not None
    assert (old.body_sha256, old.row_count) != ("", 0)
    assert len(payload_read(new.pk)) > 0
    assert set(PredictionRecord.objects.values_list("window_id", flat=True)) == {
        MonitoringWindow.objects.get(start=hour_ago(3)).pk
    }
    old_window.refresh_from_db()
    assert old_window.prediction_count == 30
    [event] = _retention_events()
    assert event.payload["payloads_cleared"] == 1
    assert event.payload["label_join_rows_deleted"] == 30
    # Nothing left to do: no second event.
    assert monitoring_prune().payloads_cleared == 0
    assert len(_retention_events()) == 1


def test_a_label_for_a_pruned_prediction_counts_as_unmatched(
    world, pushed, settings, django_capture_on_commit_callbacks
):
    settings.MONITORING_LABEL_JOIN_DAYS = 180
    prune_monitoring.delay()
    labels = [{"prediction_id": f"old{n}", "label": 1} for n in range(3)]
    labels.append({"prediction_id": "new0", "label": 0})
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(world.client, url(batches.LABELS), json_rows("l", labels))
    assert response.status_code == 202
    result = MonitoringBatch.objects.get(batch_id="l").result
    assert (result["matched"], result["unmatched"]) == (1, 3)


def test_zero_keeps_everything(pushed, settings):
    settings.MONITORING_PAYLOAD_RETENTION_DAYS = 0
    settings.MONITORING_LABEL_JOIN_DAYS = 0
    pruned = monitoring_prune()
    assert (pruned.payloads_cleared, pruned.label_join_rows_deleted) == (0, 0)
    assert PredictionRecord.objects.count() == 60
    assert _retention_events() == []
