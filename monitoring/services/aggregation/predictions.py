"""Merging a prediction batch into its windows: feature, score and latency
profiles, outcomes of inline labels, fairness segments, the review queue, and
the label-join index rows. The profiling runs before any lock is taken."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
from django.conf import settings
from django.db import transaction
from gatehouse_client.profile import WindowProfile, outcomes

from monitoring.models import (
    FeatureProfile,
    MonitoringBatch,
    MonitoringTarget,
    MonitoringWindow,
    ReferenceProfile,
    ReviewItem,
)
from monitoring.parsing import FEATURE_PREFIX, SEGMENT_PREFIX
from monitoring.services.aggregation.records import records_insert
from monitoring.services.aggregation.references import (
    dump_profile,
    load_latency,
    load_profile,
    load_score,
    reference_for,
    reference_state_of,
)
from monitoring.services.aggregation.state import batch_lock_pending, batch_mark_applied
from monitoring.services.aggregation.window_rows import (
    WINDOW_FIELDS,
    window_touch,
    windows_ensure,
    windows_lock,
)
from monitoring.services.targets import config_for
from monitoring.windows import (
    Partial,
    PredictionSettings,
    ReferenceState,
    hour_of,
    merge_kpis,
    merge_segments,
    prediction_partials,
    quantile,
    segment_json,
    sort_by_hour,
)


def apply_predictions(batch: MonitoringBatch, table: pa.Table, now: datetime) -> bool:
    """Merge a prediction batch; False when another worker has it or it is done."""
    target = batch.target
    model = target.model
    config = config_for(model)
    reference = reference_for(target, table)
    state = reference_state_of(reference)
    table, hours = sort_by_hour(table)
    prediction_settings = PredictionSettings(
        task=config.task,
        threshold=config.decision_threshold,
        low_confidence=model.low_confidence_threshold,
        seed=batch.pk,
    )
    partials = prediction_partials(
        table, hours, state.features, state.score_bins, prediction_settings
    )
    segments = segment_json(table)
    with transaction.atomic():
        if batch_lock_pending(batch.pk) is None:
            return False
        window_ids = windows_ensure(target, list(partials), reference)
        records_insert(target, table, hours, window_ids, segments, now)
        windows = {hour_of(w.start): w for w in windows_lock(window_ids.values())}
        states = {reference.pk: state}
        # Windows opened under earlier references: those references, in one query.
        earlier = ReferenceProfile.objects.in_bulk(
            {w.reference_id for w in windows.values()} - {None, reference.pk}
        )
        for reference_id, earlier_reference in earlier.items():
            states[reference_id] = reference_state_of(earlier_reference)
        for hour, window in windows.items():
            if window.reference_id is None:
                window.reference = reference
            elif window.reference_id != reference.pk:
                # The window opened under an earlier reference: profile its rows
                # on that reference's bins instead.
                other = states[window.reference_id]
                partials[hour] = prediction_partials(
                    table,
                    hours,
                    other.features,
                    other.score_bins,
                    prediction_settings,
                    only={hour},
                )[hour]
        features_merge(windows, partials, states)
        review_queued = _queue_reviews(batch, target, table, windows, partials)
        labelled = invalid = 0
        for hour, window in windows.items():
            part = partials[hour]
            labelled += part.labelled
            invalid += part.invalid_labels
            window_merge(window, part, now)
        MonitoringWindow.objects.bulk_update(list(windows.values()), WINDOW_FIELDS)
        batch_mark_applied(
            batch,
            {
                "rows": table.num_rows,
                "windows": [w.start.isoformat() for w in windows.values()],
                "labelled": labelled,
                "invalid_labels": invalid,
                "review_queued": review_queued,
                "reference": reference.pk,
            },
            now,
        )
    return True


def window_merge(window: MonitoringWindow, part: Partial | WindowProfile, now) -> None:
    """Add what a batch brings to one window (its feature profiles aside:
    ``features_merge``), from rows or from a client's profile alike."""
    window.prediction_count += part.rows
    window.label_count += part.labelled
    if part.score is not None:
        current = load_score(window.score_profile)
        merged = part.score if current is None else current.merge(part.score)
        window.score_profile = merged.to_dict()
        window.score_mean = merged.mean if merged.count else None
    if part.latency is not None:
        current = load_latency(window.latency_profile)
        merged = part.latency if current is None else current.merge(part.latency)
        window.latency_profile = merged.to_dict(include_bins=False)
        window.latency_count = merged.count
        window.latency_p50 = quantile(merged, 0.50)
        window.latency_p95 = quantile(merged, 0.95)
        window.latency_p99 = quantile(merged, 0.99)
    if part.outcomes:
        window.outcomes = outcomes.merge_counts(window.outcomes, part.outcomes)
    if part.segments:
        window.segments = merge_segments(window.segments, part.segments)
    if part.kpis:
        window.kpis = merge_kpis(window.kpis, part.kpis)
    window_touch(window, now)


def features_merge(
    windows: dict[int, MonitoringWindow],
    partials: dict[int, Partial] | dict[int, WindowProfile],
    states: dict[int, ReferenceState],
) -> None:
    """Merge each window's feature profiles (one query to read, two to write)."""
    by_pk = {window.pk: window for window in windows.values()}
    existing = {
        (row.window_id, row.feature): row
        for row in FeatureProfile.objects.filter(window_id__in=list(by_pk))
    }
    to_update, to_create = [], []
    for hour, window in windows.items():
        state = states[window.reference_id]
        for name, profile in partials[hour].features.items():
            row = existing.get((window.pk, name))
            if row is not None:
                merged = load_profile(row.profile, state.features[name]).merge(profile)
                row.profile = dump_profile(merged)
                row.count = merged.count
                row.missing = merged.missing
                to_update.append(row)
            else:
                to_create.append(
                    FeatureProfile(
                        window=window,
                        feature=name,
                        kind=profile.kind,
                        profile=dump_profile(profile),
                        count=profile.count,
                        missing=profile.missing,
                    )
                )
    if to_update:
        FeatureProfile.objects.bulk_update(to_update, ["profile", "count", "missing"])
    if to_create:
        FeatureProfile.objects.bulk_create(to_create)


def _queue_reviews(
    batch: MonitoringBatch,
    target: MonitoringTarget,
    table: pa.Table,
    windows: dict[int, MonitoringWindow],
    partials: dict[int, Partial],
) -> int:
    limit = settings.MONITORING_REVIEW_PER_WINDOW
    offered = {
        hour: part.review_rows[: max(limit - windows[hour].review_queued, 0)]
        for hour, part in partials.items()
        if part.review_rows
    }
    rows = [row for chosen in offered.values() for row in chosen]
    if not rows:
        return 0
    picked = table.take(pa.array(rows, type=pa.int64())).to_pylist()
    ids = [record["prediction_id"] for record in picked]
    queued_before = set(
        ReviewItem.objects.filter(target=target, prediction_id__in=ids).values_list(
            "prediction_id", flat=True
        )
    )
    items = []
    position = 0
    for hour, chosen in offered.items():
        window = windows[hour]
        for _ in chosen:
            record = picked[position]
            position += 1
            if record["prediction_id"] in queued_before:
                continue
            queued_before.add(record["prediction_id"])
            confidence = record.get("confidence")
            if confidence is None:
                confidence = record.get("score")
            items.append(
                ReviewItem(
                    target=target,
                    window=window,
                    batch=batch,
                    prediction_id=record["prediction_id"],
                    predicted_at=record["timestamp"],
                    score=record.get("score"),
                    confidence=confidence,
                    prediction=_text(record.get("prediction")),
                    features={
                        key[len(FEATURE_PREFIX) :]: value
                        for key, value in record.items()
                        if key.startswith(FEATURE_PREFIX)
                    }
                    | {
                        key[len(SEGMENT_PREFIX) :]: value
                        for key, value in record.items()
                        if key.startswith(SEGMENT_PREFIX)
                    },
                )
            )
            window.review_queued += 1
    ReviewItem.objects.bulk_create(items)
    return len(items)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
