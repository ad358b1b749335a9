"""The day roll-ups that dashboards of long periods read, kept by the checks."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitoring.models import MonitoringDay, MonitoringWindow


def day_roll_up(window: MonitoringWindow, now: datetime) -> None:
    """Recompute the window's day from the day's checked windows.

    The day row is locked after the window (lock order: window, day), so two
    windows of one day checked at once recompute one after the other, each from
    the committed windows plus its own.
    """
    start = window.start.replace(hour=0, minute=0, second=0, microsecond=0)
    day, _ = MonitoringDay.objects.get_or_create(
        target_id=window.target_id, day=start.date()
    )
    MonitoringDay.objects.select_for_update().filter(pk=day.pk).first()
    rows = MonitoringWindow.objects.filter(
        target_id=window.target_id,
        start__gte=start,
        start__lt=start + timedelta(days=1),
        checked_at__isnull=False,
    ).values(
        "drift",
        "summary",
        "prediction_count",
        "label_count",
        "latency_p50",
        "latency_p95",
        "latency_p99",
    )
    drift: dict[str, float] = {}
    latency: dict[str, float] = {}
    sums: dict[str, dict[str, list[float]]] = {"performance": {}, "kpis": {}}
    gaps: dict[str, float] = {}
    counts = {"prediction_count": 0, "label_count": 0}
    for row in rows:
        for feature, score in (row["drift"] or {}).items():
            if score is not None and score > drift.get(feature, -1.0):
                drift[feature] = score
        for key in counts:
            counts[key] += row[key]
        for key in ("latency_p50", "latency_p95", "latency_p99"):
            if row[key] is not None and row[key] > latency.get(key, -1.0):
                latency[key] = row[key]
        summary = row["summary"] or {}
        for part, values in sums.items():
            for name, value in (summary.get(part) or {}).items():
                if isinstance(value, int | float):
                    values.setdefault(name, []).append(value)
        for subject, entry in (summary.get("fairness") or {}).items():
            gaps[subject] = max(gaps.get(subject, 0.0), entry.get("gap", 0.0))
    MonitoringDay.objects.filter(pk=day.pk).update(
        drift=drift,
        summary={
            **counts,
            **latency,
            "performance": {k: sum(v) / len(v) for k, v in sums["performance"].items()},
            "kpi_means": {k: sum(v) / len(v) for k, v in sums["kpis"].items()},
            "fairness": {subject: {"gap": gap} for subject, gap in gaps.items()},
        },
        updated_at=now,
    )
