"""Merging a stored batch of LLM calls into its hourly windows, exactly once,
and queueing its flagged calls (a safety flag, a thumbs down) for review.

The counting runs before any lock; the merge runs in one transaction that also
marks the batch applied (the lock order of ``monitoring.services.aggregation``:
the batch row, windows by start, then review items).
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
from django.conf import settings
from django.db import transaction

from monitoring.llm.parsing import JUDGE_PREFIX
from monitoring.llm.windows import CallPartial, call_partials, merge_stats
from monitoring.models import (
    MonitoringBatch,
    MonitoringTarget,
    MonitoringWindow,
    ReviewItem,
    ReviewReason,
)
from monitoring.services.aggregation.references import load_latency
from monitoring.services.aggregation.state import batch_lock_pending, batch_mark_applied
from monitoring.services.aggregation.window_rows import (
    window_touch,
    windows_ensure,
    windows_lock,
)
from monitoring.windows import hour_of, quantile, sort_by_hour

LLM_WINDOW_FIELDS = [
    "llm",
    "latency_profile",
    "latency_count",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "review_queued",
    "revision",
    "needs_check",
    "updated_at",
]


def apply_llm_calls(batch: MonitoringBatch, table: pa.Table, now: datetime) -> bool:
    """Merge a call batch; False when another worker has it or it is done."""
    target = batch.target
    table, hours = sort_by_hour(table)
    partials = call_partials(table, hours)
    with transaction.atomic():
        if batch_lock_pending(batch.pk) is None:
            return False
        window_ids = windows_ensure(target, list(partials), None)
        windows = {hour_of(w.start): w for w in windows_lock(window_ids.values())}
        queued = _queue_flagged(batch, target, table, windows, partials)
        for hour, window in windows.items():
            part = partials[hour]
            window.llm = merge_stats(window.llm, part.stats)
            current = load_latency(window.latency_profile)
            merged = part.latency if current is None else current.merge(part.latency)
            window.latency_profile = merged.to_dict(include_bins=False)
            window.latency_count = merged.count
            window.latency_p50 = quantile(merged, 0.50)
            window.latency_p95 = quantile(merged, 0.95)
            window.latency_p99 = quantile(merged, 0.99)
            window_touch(window, now)
        MonitoringWindow.objects.bulk_update(list(windows.values()), LLM_WINDOW_FIELDS)
        batch_mark_applied(
            batch,
            {
                "rows": table.num_rows,
                "windows": [w.start.isoformat() for w in windows.values()],
                "review_queued": queued,
            },
            now,
        )
    return True


def _review_facts(record: dict) -> dict:
    """What a reviewer reads about a call, under labels."""
    facts = {
        "Base model": record["model"],
        "Prompt version": record.get("prompt_version"),
        "Input tokens": record["input_tokens"],
        "Output tokens": record["output_tokens"],
        "Cost": record["cost"],
        "Latency (ms)": record["latency_ms"],
        "Finish reason": record.get("finish_reason"),
        "Refused": "yes" if record.get("refusal") else "no",
        "Safety flags": ", ".join(record.get("safety_flags") or []) or "none",
        "User feedback": {"up": "thumbs up", "down": "thumbs down"}.get(
            record.get("feedback") or "", "none"
        ),
        "User comment": record.get("feedback_text"),
    }
    for key, value in record.items():
        if key.startswith(JUDGE_PREFIX) and value is not None:
            facts[f"Judge score: {key[len(JUDGE_PREFIX) :].replace('_', ' ')}"] = value
    return facts


def _queue_flagged(
    batch: MonitoringBatch,
    target: MonitoringTarget,
    table: pa.Table,
    windows: dict[int, MonitoringWindow],
    partials: dict[int, CallPartial],
) -> int:
    """Queue flagged calls, at most ``MONITORING_REVIEW_PER_WINDOW`` a window
    (safety flags first); a call queued before is not queued again."""
    limit = settings.MONITORING_REVIEW_PER_WINDOW
    offered = {
        hour: part.flagged_rows[: max(limit - windows[hour].review_queued, 0)]
        for hour, part in partials.items()
        if part.flagged_rows
    }
    rows = [row for chosen in offered.values() for row in chosen]
    if not rows:
        return 0
    picked = table.take(pa.array(rows, type=pa.int64())).to_pylist()
    ids = [record["call_id"] for record in picked]
    queued_before = set(
        ReviewItem.objects.filter(target=target, prediction_id__in=ids).values_list(
            "prediction_id", flat=True
        )
    )
    items = []
    records = iter(picked)
    for hour, chosen in offered.items():
        window = windows[hour]
        for _ in chosen:
            record = next(records)
            if record["call_id"] in queued_before:
                continue
            queued_before.add(record["call_id"])
            items.append(
                ReviewItem(
                    target=target,
                    window=window,
                    batch=batch,
                    prediction_id=record["call_id"],
                    predicted_at=record["timestamp"],
                    confidence=0.0,
                    reason=ReviewReason.SAFETY_FLAG
                    if record.get("safety_flags")
                    else ReviewReason.THUMBS_DOWN,
                    features=_review_facts(record),
                )
            )
            window.review_queued += 1
    ReviewItem.objects.bulk_create(items)
    return len(items)
