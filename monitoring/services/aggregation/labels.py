"""Merging a batch of delayed labels: join them to their predictions, add the
outcomes to the predictions' windows and settle their pending reviews.

Lock order, after the batch row: review items (by pk), prediction records (by
pk), windows."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np
import pyarrow as pa
from django.db import transaction
from gatehouse_client.profile import outcomes

from monitoring.models import (
    MonitoringBatch,
    MonitoringTarget,
    MonitoringWindow,
    PredictionRecord,
    ReviewItem,
    ReviewStatus,
)
from monitoring.services.aggregation.records import (
    LABEL_CHUNK,
    column_values,
    records_label,
)
from monitoring.services.aggregation.state import batch_lock_pending, batch_mark_applied
from monitoring.services.aggregation.window_rows import window_touch, windows_lock
from monitoring.services.targets import config_for
from monitoring.windows import merge_segments, segment_counts, text_values


def apply_labels(batch: MonitoringBatch, table: pa.Table, now: datetime) -> bool:
    """Merge a label batch; False when another worker has it or it is done."""
    target = batch.target
    config = config_for(target.model)
    ids = table.column("prediction_id").to_pylist()
    label_texts = text_values(column_values(table, "label"), table.num_rows)
    label_of = dict(zip(ids, label_texts, strict=True))
    targets = list(
        MonitoringTarget.objects.filter(
            model_id=target.model_id, environment_id=target.environment_id
        ).values_list("pk", flat=True)
    )
    with transaction.atomic():
        if batch_lock_pending(batch.pk) is None:
            return False
        reviews = _lock_reviews(targets, ids)
        found: list[int] = []
        for start in range(0, len(ids), LABEL_CHUNK):
            found.extend(
                PredictionRecord.objects.filter(
                    target_id__in=targets,
                    prediction_id__in=ids[start : start + LABEL_CHUNK],
                ).values_list("pk", flat=True)
            )
        found.sort()
        records: list[PredictionRecord] = []
        for start in range(0, len(found), LABEL_CHUNK):
            records.extend(
                PredictionRecord.objects.select_for_update()
                .filter(pk__in=found[start : start + LABEL_CHUNK])
                .order_by("pk")
            )
        matched_ids = {record.prediction_id for record in records}
        fresh = [record for record in records if record.label is None]
        already = len({r.prediction_id for r in records if r.label is not None})
        for record in fresh:
            record.label = label_of[record.prediction_id]
            record.labelled_at = now
        invalid, window_ids = label_outcomes_merge(fresh, config, now)
        records_label(fresh, now)
        _close_reviews(reviews, fresh, batch, now)
        batch_mark_applied(
            batch,
            {
                "rows": table.num_rows,
                "matched": len(fresh),
                "already_labelled": already,
                "unmatched": len(set(ids) - matched_ids),
                "invalid_labels": invalid,
                "windows": len(window_ids),
            },
            now,
        )
    return True


def label_outcomes_merge(
    records: list[PredictionRecord], config, now: datetime
) -> tuple[int, list[int]]:
    """Add the outcomes of newly labelled records to their windows (locking
    them); return the unreadable label count and the windows touched."""
    if not records:
        return 0, []
    by_window: dict[int, list[PredictionRecord]] = defaultdict(list)
    for record in records:
        by_window[record.window_id].append(record)
    windows = windows_lock(by_window)
    invalid = 0
    for window in windows:
        group = by_window[window.pk]
        labels = np.asarray([record.label for record in group], dtype=object)
        predictions = np.asarray(
            [record.prediction or None for record in group], dtype=object
        )
        scores = np.asarray(
            [np.nan if record.score is None else record.score for record in group]
        )
        has_prediction = any(value is not None for value in predictions)
        rows = outcomes.row_outcomes(
            config.task,
            labels,
            predictions=predictions if has_prediction else None,
            scores=scores,
            threshold=config.decision_threshold,
        )
        invalid += rows.invalid
        counts = outcomes.outcome_counts(config.task, rows)
        window.outcomes = outcomes.merge_counts(window.outcomes, counts)
        window.label_count += counts["n"]
        attributes = sorted({name for record in group for name in record.segments})
        if attributes:
            segment_values = {
                name: np.asarray(
                    [record.segments.get(name) for record in group], dtype=object
                )
                for name in attributes
            }
            window.segments = merge_segments(
                window.segments,
                segment_counts(
                    segment_values, positive=None, rows=rows, include_predictions=False
                ),
            )
        window_touch(window, now)
    MonitoringWindow.objects.bulk_update(
        windows,
        [
            "outcomes",
            "label_count",
            "segments",
            "revision",
            "needs_check",
            "updated_at",
        ],
    )
    return invalid, [window.pk for window in windows]


def _lock_reviews(targets: list[int], ids: list[str]) -> list[ReviewItem]:
    """Pending review items of these predictions, locked before the records
    (the order ``review_item_label`` takes too)."""
    items: list[ReviewItem] = []
    for start in range(0, len(ids), LABEL_CHUNK):
        items.extend(
            ReviewItem.objects.filter(
                target_id__in=targets,
                prediction_id__in=ids[start : start + LABEL_CHUNK],
                status=ReviewStatus.PENDING,
            ).values_list("pk", flat=True)
        )
    if not items:
        return []
    return list(
        ReviewItem.objects.select_for_update()
        .filter(pk__in=sorted(items), status=ReviewStatus.PENDING)
        .order_by("pk")
    )


def _close_reviews(items: list[ReviewItem], records, batch, now) -> None:
    """A delayed label settles the review of the same prediction."""
    label_of = {record.prediction_id: record.label for record in records}
    settled = [item for item in items if item.prediction_id in label_of]
    for item in settled:
        item.status = ReviewStatus.LABELLED
        item.label = label_of[item.prediction_id] or ""
        item.comment = f"Labelled by batch {batch.batch_id}."
        item.labelled_at = now
    if settled:
        ReviewItem.objects.bulk_update(
            settled, ["status", "label", "comment", "labelled_at"]
        )
