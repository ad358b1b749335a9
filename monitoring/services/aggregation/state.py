"""A batch row's life: each attempt is counted, the row is locked while it is
applied (``SKIP LOCKED``: another worker's batch is skipped), marked applied in
the same transaction as the merge, or failed after too many attempts; the
sweeper finds batches left pending."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from monitoring.models import BatchStatus, MonitoringBatch


def batch_attempt_start(batch_id: int) -> MonitoringBatch | None:
    """Count an attempt on a pending batch and load it (without its payload);
    None when it is not pending."""
    updated = MonitoringBatch.objects.filter(
        pk=batch_id, status=BatchStatus.PENDING
    ).update(attempts=F("attempts") + 1)
    if not updated:
        return None
    return (
        MonitoringBatch.objects.select_related(
            "target__model",
            "target__version__artifact",
            "target__environment",
        )
        .defer("payload")
        .get(pk=batch_id)
    )


def batch_lock_pending(batch_id: int) -> MonitoringBatch | None:
    """Lock the batch row if it is still pending and no other worker holds it."""
    return (
        MonitoringBatch.objects.select_for_update(skip_locked=True)
        .filter(pk=batch_id, status=BatchStatus.PENDING)
        .only("pk", "status")
        .first()
    )


def batch_mark_applied(batch: MonitoringBatch, result: dict, now: datetime) -> None:
    """Mark the batch applied, in the transaction of its merge (the last write
    of every merge)."""
    MonitoringBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.APPLIED, applied_at=now, result=result, error=""
    )
    batch.status = BatchStatus.APPLIED
    batch.applied_at = now
    batch.result = result


def batch_fail(*, batch_id: int, error: str) -> None:
    """Give up on a batch (after too many attempts); it stays stored."""
    MonitoringBatch.objects.filter(pk=batch_id, status=BatchStatus.PENDING).update(
        status=BatchStatus.FAILED, error=error[:2000]
    )


def batch_error_record(*, batch_id: int, error: str) -> None:
    MonitoringBatch.objects.filter(pk=batch_id, status=BatchStatus.PENDING).update(
        error=error[:2000]
    )


def batches_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Pending batches whose enqueue is older than the sweep delay: their task
    was lost (broker down at commit) or their worker died. Marks them enqueued
    now so that the next sweep waits again."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.MONITORING_SWEEP_AFTER_SECONDS)
    with transaction.atomic():
        due = list(
            MonitoringBatch.objects.select_for_update(skip_locked=True)
            .filter(status=BatchStatus.PENDING, enqueued_at__lte=cutoff)
            .order_by("enqueued_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if due:
            MonitoringBatch.objects.filter(pk__in=due).update(enqueued_at=now)
    return due
