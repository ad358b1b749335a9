"""Hourly window rows: created before they are locked (``INSERT ... ON
CONFLICT DO NOTHING``, in start order), locked ``FOR NO KEY UPDATE`` by start
then pk, and marked changed (a new revision to check)."""

from __future__ import annotations

from datetime import datetime

from monitoring.models import MonitoringTarget, MonitoringWindow, ReferenceProfile
from monitoring.windows import hour_of, hour_start


def windows_ensure(
    target: MonitoringTarget, hours: list[int], reference: ReferenceProfile | None
) -> dict[int, int]:
    starts = [hour_start(hour) for hour in sorted(hours)]
    MonitoringWindow.objects.bulk_create(
        [
            MonitoringWindow(target=target, start=start, reference=reference)
            for start in starts
        ],
        ignore_conflicts=True,
    )
    rows = MonitoringWindow.objects.filter(target=target, start__in=starts).values_list(
        "pk", "start"
    )
    return {hour_of(start): pk for pk, start in rows}


def windows_lock(ids) -> list[MonitoringWindow]:
    return list(
        MonitoringWindow.objects.select_for_update(no_key=True)
        .filter(pk__in=list(ids))
        .order_by("start", "pk")
    )


def window_touch(window: MonitoringWindow, now: datetime) -> None:
    window.revision += 1
    window.needs_check = True
    window.updated_at = now


WINDOW_FIELDS = [
    "reference",
    "revision",
    "needs_check",
    "prediction_count",
    "label_count",
    "latency_count",
    "score_profile",
    "latency_profile",
    "outcomes",
    "segments",
    "kpis",
    "review_queued",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "score_mean",
    "updated_at",
]
