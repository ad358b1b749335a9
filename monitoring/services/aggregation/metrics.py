"""Merging a batch of business metrics (KPIs) into its windows."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
from django.db import transaction

from monitoring.models import MonitoringBatch, MonitoringWindow
from monitoring.services.aggregation.references import active_reference
from monitoring.services.aggregation.state import batch_lock_pending, batch_mark_applied
from monitoring.services.aggregation.window_rows import (
    window_touch,
    windows_ensure,
    windows_lock,
)
from monitoring.windows import hour_of, merge_kpis, metric_partials, sort_by_hour


def apply_metrics(batch: MonitoringBatch, table: pa.Table, now: datetime) -> bool:
    """Merge a metric batch; False when another worker has it or it is done."""
    target = batch.target
    table, hours = sort_by_hour(table)
    partials = metric_partials(table, hours)
    reference = active_reference(target.version_id)
    with transaction.atomic():
        if batch_lock_pending(batch.pk) is None:
            return False
        window_ids = windows_ensure(target, list(partials), reference)
        windows = windows_lock(window_ids.values())
        for window in windows:
            window.kpis = merge_kpis(window.kpis, partials[hour_of(window.start)].kpis)
            window_touch(window, now)
        MonitoringWindow.objects.bulk_update(
            windows, ["kpis", "revision", "needs_check", "updated_at"]
        )
        batch_mark_applied(
            batch,
            {
                "rows": table.num_rows,
                "windows": [window.start.isoformat() for window in windows],
                "kpis": sorted({name for p in partials.values() for name in p.kpis}),
            },
            now,
        )
        return True
