"""Retention of the bulky monitoring data, so a busy model does not fill the
database: batch payloads and the label-join index. Aggregates (windows,
feature profiles, check results, alerts) are kept for good.

Deletes and clears go in chunks, each its own short transaction, so a sweep
over millions of rows never holds long locks or one huge transaction; a sweep
that stops half way is simply finished by the next one. Every sweep that
removes something is one audit event with the counts and the cut-offs.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from monitoring.models import BatchStatus, MonitoringBatch, PredictionRecord

CHUNK = 20_000


@dataclass(frozen=True)
class Pruned:
    payloads_cleared: int
    payload_bytes_cleared: int
    label_join_rows_deleted: int


def _cutoff(now: datetime, days: int) -> datetime | None:
    return now - timedelta(days=days) if days > 0 else None


def _clear_payloads(cutoff: datetime, now: datetime) -> tuple[int, int]:
    cleared = size = 0
    due = MonitoringBatch.objects.filter(
        status=BatchStatus.APPLIED,
        applied_at__lt=cutoff,
        payload_pruned_at__isnull=True,
    )
    while True:
        with transaction.atomic():
            rows = list(
                due.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "body_bytes")[:CHUNK]
            )
            if not rows:
                return cleared, size
            MonitoringBatch.objects.filter(pk__in=[pk for pk, _ in rows]).update(
                payload=b"", payload_pruned_at=now
            )
        cleared += len(rows)
        size += sum(body_bytes for _, body_bytes in rows)


def _delete_label_join_rows(cutoff: datetime) -> int:
    """Rows of predictions whose hour started before the cut-off."""
    deleted = 0
    old = PredictionRecord.objects.filter(window__start__lt=cutoff)
    while True:
        with transaction.atomic():
            ids = list(old.order_by("pk").values_list("pk", flat=True)[:CHUNK])
            if not ids:
                return deleted
            count, _ = PredictionRecord.objects.filter(pk__in=ids).delete()
        deleted += count


def monitoring_prune(*, now: datetime | None = None) -> Pruned:
    """Apply MONITORING_PAYLOAD_RETENTION_DAYS and MONITORING_LABEL_JOIN_DAYS."""
    now = now or timezone.now()
    payload_cutoff = _cutoff(now, settings.MONITORING_PAYLOAD_RETENTION_DAYS)
    label_cutoff = _cutoff(now, settings.MONITORING_LABEL_JOIN_DAYS)
    cleared, size = _clear_payloads(payload_cutoff, now) if payload_cutoff else (0, 0)
    deleted = _delete_label_join_rows(label_cutoff) if label_cutoff else 0
    pruned = Pruned(cleared, size, deleted)
    if cleared or deleted:
        audit_record(
            actor=None,
            action="monitoring.retention_applied",
            target_type="monitoring",
            target_text="monitoring retention",
            payload={
                **asdict(pruned),
                "payloads_applied_before": (
                    payload_cutoff.isoformat() if payload_cutoff else None
                ),
                "label_join_hours_before": (
                    label_cutoff.isoformat() if label_cutoff else None
                ),
            },
        )
    return pruned
