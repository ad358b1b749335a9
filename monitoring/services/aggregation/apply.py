"""Applying one stored batch: count the attempt, give up after too many, and
merge it by kind (predictions, labels, metrics or LLM calls)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from monitoring import parsing
from monitoring.llm.aggregation import apply_llm_calls
from monitoring.models import BatchKind, MonitoringBatch
from monitoring.services.aggregation.labels import apply_labels
from monitoring.services.aggregation.metrics import apply_metrics
from monitoring.services.aggregation.predictions import apply_predictions
from monitoring.services.aggregation.profiles import apply_profiles
from monitoring.services.aggregation.state import batch_attempt_start, batch_fail
from monitoring.services.payloads import payload_read


def batch_apply(
    *, batch_id: int, now: datetime | None = None
) -> MonitoringBatch | None:
    """Merge a pending batch into its windows; None when there was nothing to do
    (applied already, failed, or being applied by another worker right now)."""
    batch = batch_attempt_start(batch_id)
    if batch is None:
        return None
    if batch.attempts > settings.MONITORING_APPLY_MAX_ATTEMPTS:
        batch_fail(
            batch_id=batch.pk,
            error=f"Gave up after {batch.attempts - 1} attempts. {batch.error}".strip(),
        )
        return None
    now = now or timezone.now()
    payload = payload_read(batch.pk)
    if batch.kind == BatchKind.PROFILES:
        return batch if apply_profiles(batch, payload, now) else None
    table = parsing.table_from_bytes(payload)
    if batch.kind == BatchKind.PREDICTIONS:
        applied = apply_predictions(batch, table, now)
    elif batch.kind == BatchKind.LABELS:
        applied = apply_labels(batch, table, now)
    elif batch.kind == BatchKind.LLM_CALLS:
        applied = apply_llm_calls(batch, table, now)
    else:
        applied = apply_metrics(batch, table, now)
    return batch if applied else None
