"""Applying stored batches to their windows, exactly once.

The profiling (the expensive part) runs before any lock is taken; the merge runs
in one transaction that also marks the batch applied, so a batch is counted
once whatever happens: a redelivered message finds it applied, a worker killed
half way rolls back and the batch is applied again by the next attempt.

Lock order: the batch row (``FOR UPDATE SKIP LOCKED``: a batch another worker
is applying is skipped), prediction records (labels, by pk), windows (``FOR NO
KEY UPDATE``, by start then pk), then the audit chain. Windows are created
before they are locked (``INSERT ... ON CONFLICT DO NOTHING``, in start order).
"""

from __future__ import annotations

import io
import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_record
from monitoring import ingestion, outcomes
from monitoring.ingestion import FEATURE_PREFIX, SEGMENT_PREFIX
from monitoring.models import (
    BatchKind,
    BatchStatus,
    FeatureProfile,
    MonitoringBatch,
    MonitoringTarget,
    MonitoringWindow,
    PredictionRecord,
    ReferenceProfile,
    ReferenceSource,
    ReviewItem,
    ReviewStatus,
)
from monitoring.profiles import (
    CategoricalProfile,
    NumericProfile,
    Profile,
)
from monitoring.services.payloads import payload_read
from monitoring.services.targets import config_for
from monitoring.windows import (
    LATENCY_BINS,
    Partial,
    PredictionSettings,
    ReferenceState,
    build_reference,
    hour_of,
    hour_start,
    merge_kpis,
    merge_segments,
    metric_partials,
    prediction_partials,
    quantile,
    reference_state,
    segment_counts,
    segment_json,
    sort_by_hour,
    text_values,
)

logger = logging.getLogger(__name__)

LABEL_CHUNK = 10_000
PAUSE_MARKER = "monitoring-apply-paused"


# --- References ---------------------------------------------------------------------


def active_reference(version_id: int) -> ReferenceProfile | None:
    return (
        ReferenceProfile.objects.filter(version_id=version_id)
        .order_by("-created_at", "-pk")
        .first()
    )


def _reference_for(target: MonitoringTarget, table: pa.Table) -> ReferenceProfile:
    """The version's active reference; without one, the first batch becomes it."""
    reference = active_reference(target.version_id)
    if reference is not None:
        return reference
    with transaction.atomic():
        MonitoringTarget.objects.select_for_update().get(pk=target.pk)
        reference = active_reference(target.version_id)
        if reference is not None:
            return reference
        schema = ingestion.Schema.for_kind(
            ingestion.PREDICTIONS, target.version.artifact.feature_spec, ()
        )
        features, score = build_reference(table, list(schema.features))
        reference = ReferenceProfile.objects.create(
            version_id=target.version_id,
            source=ReferenceSource.BOOTSTRAP,
            row_count=table.num_rows,
            features=features,
            score=score,
        )
        audit_record(
            actor=None,
            action="monitoring.reference_bootstrapped",
            target=target.version,
            scope=target.model.name,
            payload={
                "reference": reference.pk,
                "environment": target.environment.name,
                "rows": table.num_rows,
            },
        )
    return reference


def reference_state_of(reference: ReferenceProfile | None) -> ReferenceState:
    if reference is None:
        return ReferenceState(id=None, features={}, score=None)
    return reference_state(reference.pk, reference.features, reference.score)


# --- Profiles in rows -----------------------------------------------------------------


def load_profile(data: dict, reference: Profile) -> Profile:
    if isinstance(reference, NumericProfile):
        return NumericProfile.from_dict(data, bins=reference.bins)
    return CategoricalProfile.from_dict(data)


def dump_profile(profile: Profile) -> dict:
    if isinstance(profile, NumericProfile):
        return profile.to_dict(include_bins=False)
    return profile.to_dict()


def load_latency(data: dict | None) -> NumericProfile | None:
    return NumericProfile.from_dict(data, bins=LATENCY_BINS) if data else None


def load_score(data: dict | None) -> NumericProfile | None:
    return NumericProfile.from_dict(data) if data else None


# --- Batches --------------------------------------------------------------------------


def _start_attempt(batch_id: int) -> MonitoringBatch | None:
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


def _lock_pending(batch_id: int) -> MonitoringBatch | None:
    return (
        MonitoringBatch.objects.select_for_update(skip_locked=True)
        .filter(pk=batch_id, status=BatchStatus.PENDING)
        .only("pk", "status")
        .first()
    )


def _finish(batch: MonitoringBatch, result: dict, now: datetime) -> None:
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


def batch_apply(
    *, batch_id: int, now: datetime | None = None
) -> MonitoringBatch | None:
    """Merge a pending batch into its windows; None when there was nothing to do
    (applied already, failed, or being applied by another worker right now)."""
    batch = _start_attempt(batch_id)
    if batch is None:
        return None
    if batch.attempts > settings.MONITORING_APPLY_MAX_ATTEMPTS:
        batch_fail(
            batch_id=batch.pk,
            error=f"Gave up after {batch.attempts - 1} attempts. {batch.error}".strip(),
        )
        return None
    now = now or timezone.now()
    table = ingestion.table_from_bytes(payload_read(batch.pk))
    if batch.kind == BatchKind.PREDICTIONS:
        applied = _apply_predictions(batch, table, now)
    elif batch.kind == BatchKind.LABELS:
        applied = _apply_labels(batch, table, now)
    else:
        applied = _apply_metrics(batch, table, now)
    return batch if applied else None


def _pause_for_tests(batch: MonitoringBatch) -> None:
    """Hold the first attempt's transaction open (a test kills the worker here;
    see ``MONITORING_APPLY_PAUSE_SECONDS``)."""
    seconds = settings.MONITORING_APPLY_PAUSE_SECONDS
    if seconds > 0 and batch.attempts == 1:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT '{PAUSE_MARKER}'")
        time.sleep(seconds)


# --- Windows --------------------------------------------------------------------------


def _ensure_windows(
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


def _lock_windows(ids) -> list[MonitoringWindow]:
    return list(
        MonitoringWindow.objects.select_for_update(no_key=True)
        .filter(pk__in=list(ids))
        .order_by("start", "pk")
    )


def _touch(window: MonitoringWindow, now: datetime) -> None:
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


# --- Predictions ----------------------------------------------------------------------


def _apply_predictions(batch: MonitoringBatch, table: pa.Table, now: datetime) -> bool:
    target = batch.target
    model = target.model
    config = config_for(model)
    reference = _reference_for(target, table)
    state = reference_state_of(reference)
    table, hours = sort_by_hour(table)
    prediction_settings = PredictionSettings(
        task=config.task,
        threshold=config.decision_threshold,
        low_confidence=model.low_confidence_threshold,
        seed=batch.pk,
    )
    partials = prediction_partials(table, hours, state, prediction_settings)
    segments = segment_json(table)
    with transaction.atomic():
        if _lock_pending(batch.pk) is None:
            return False
        window_ids = _ensure_windows(target, list(partials), reference)
        _insert_records(target, table, hours, window_ids, segments, now)
        windows = {hour_of(w.start): w for w in _lock_windows(window_ids.values())}
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
                    table, hours, other, prediction_settings, only={hour}
                )[hour]
        _merge_features(windows, partials, states)
        review_queued = _queue_reviews(batch, target, table, windows, partials)
        labelled = invalid = 0
        for hour, window in windows.items():
            part = partials[hour]
            window.prediction_count += part.rows
            window.label_count += part.labelled
            labelled += part.labelled
            invalid += part.invalid_labels
            if part.score is not None:
                current = load_score(window.score_profile)
                merged = part.score if current is None else current.merge(part.score)
                window.score_profile = merged.to_dict()
                window.score_mean = merged.mean if merged.count else None
            if part.latency is not None:
                current = load_latency(window.latency_profile)
                merged = (
                    part.latency if current is None else current.merge(part.latency)
                )
                window.latency_profile = merged.to_dict(include_bins=False)
                window.latency_count = merged.count
                window.latency_p50 = quantile(merged, 0.50)
                window.latency_p95 = quantile(merged, 0.95)
                window.latency_p99 = quantile(merged, 0.99)
            if part.outcomes:
                window.outcomes = outcomes.merge_counts(window.outcomes, part.outcomes)
            if part.segments:
                window.segments = merge_segments(window.segments, part.segments)
            _touch(window, now)
        MonitoringWindow.objects.bulk_update(list(windows.values()), WINDOW_FIELDS)
        _pause_for_tests(batch)
        _finish(
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


def _merge_features(
    windows: dict[int, MonitoringWindow],
    partials: dict[int, Partial],
    states: dict[int, ReferenceState],
) -> None:
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


def _insert_records(
    target: MonitoringTarget,
    table: pa.Table,
    hours: np.ndarray,
    window_ids: dict[int, int],
    segments: np.ndarray | None,
    now: datetime,
) -> None:
    """Write the label-join index rows of a prediction batch (COPY on PostgreSQL)."""
    rows = table.num_rows
    unique, inverse = np.unique(hours, return_inverse=True)
    windows = np.asarray([window_ids[int(hour)] for hour in unique])[inverse]
    score = (
        table.column("score").combine_chunks()
        if "score" in table.column_names
        else pa.nulls(rows, pa.float64())
    )
    predictions = text_values(_values(table, "prediction"), rows)
    labels = text_values(_values(table, "label"), rows)
    labelled = np.asarray([label is not None for label in labels])
    columns = {
        "target_id": pa.array(np.full(rows, target.pk, dtype=np.int64)),
        "window_id": pa.array(windows.astype(np.int64)),
        "prediction_id": table.column("prediction_id").combine_chunks(),
        "score": score,
        "prediction": pa.array(
            ["" if value is None else value for value in predictions], type=pa.string()
        ),
        "segments": pa.array(
            segments if segments is not None else np.full(rows, "{}", dtype=object),
            type=pa.string(),
        ),
        "label": pa.array(list(labels), type=pa.string()),
        "labelled_at": pa.array(
            [now if flag else None for flag in labelled],
            type=pa.timestamp("us", tz="UTC"),
        ),
    }
    if connection.vendor == "postgresql":
        buffer = io.BytesIO()
        pa_csv.write_csv(
            pa.table(columns), buffer, pa_csv.WriteOptions(include_header=False)
        )
        names = ", ".join(columns)
        table_name = PredictionRecord._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f"COPY {table_name} ({names}) FROM STDIN WITH (FORMAT csv)"
            ) as copy,
        ):
            copy.write(buffer.getvalue())
        return
    import json

    ids = columns["prediction_id"].to_pylist()
    scores = score.to_pylist()
    segment_texts = columns["segments"].to_pylist()
    PredictionRecord.objects.bulk_create(
        [
            PredictionRecord(
                target_id=target.pk,
                window_id=int(windows[index]),
                prediction_id=ids[index],
                score=scores[index],
                prediction=predictions[index] or "",
                segments=json.loads(segment_texts[index]),
                label=labels[index],
                labelled_at=now if labelled[index] else None,
            )
            for index in range(rows)
        ],
        batch_size=1000,
    )


def _values(table: pa.Table, name: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    column = table.column(name).combine_chunks()
    if pa.types.is_floating(column.type):
        return column.to_numpy(zero_copy_only=False)
    return np.asarray(column.to_pylist(), dtype=object)


# --- Labels ---------------------------------------------------------------------------


def _apply_labels(batch: MonitoringBatch, table: pa.Table, now: datetime) -> bool:
    target = batch.target
    config = config_for(target.model)
    ids = table.column("prediction_id").to_pylist()
    label_texts = text_values(_values(table, "label"), table.num_rows)
    label_of = dict(zip(ids, label_texts, strict=True))
    targets = list(
        MonitoringTarget.objects.filter(
            model_id=target.model_id, environment_id=target.environment_id
        ).values_list("pk", flat=True)
    )
    with transaction.atomic():
        if _lock_pending(batch.pk) is None:
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
        _save_labels(fresh, now)
        _close_reviews(reviews, fresh, batch, now)
        _pause_for_tests(batch)
        _finish(
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
    windows = _lock_windows(by_window)
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
        _touch(window, now)
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


def _save_labels(records: list[PredictionRecord], now: datetime) -> None:
    """Write the labels of many records in one statement per chunk."""
    if not records:
        return
    if connection.vendor != "postgresql":
        PredictionRecord.objects.bulk_update(records, ["label", "labelled_at"])
        return
    table = PredictionRecord._meta.db_table
    sql = (
        f"UPDATE {table} AS record SET label = given.label, labelled_at = %s "  # noqa: S608
        "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::text[]) AS label) "
        "AS given WHERE record.id = given.id"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(records), LABEL_CHUNK):
            chunk = records[start : start + LABEL_CHUNK]
            cursor.execute(sql, [now, [r.pk for r in chunk], [r.label for r in chunk]])


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


# --- Metrics --------------------------------------------------------------------------


def _apply_metrics(batch: MonitoringBatch, table: pa.Table, now: datetime) -> bool:
    target = batch.target
    table, hours = sort_by_hour(table)
    partials = metric_partials(table, hours)
    reference = active_reference(target.version_id)
    with transaction.atomic():
        if _lock_pending(batch.pk) is None:
            return False
        window_ids = _ensure_windows(target, list(partials), reference)
        windows = _lock_windows(window_ids.values())
        for window in windows:
            window.kpis = merge_kpis(window.kpis, partials[hour_of(window.start)].kpis)
            _touch(window, now)
        MonitoringWindow.objects.bulk_update(
            windows, ["kpis", "revision", "needs_check", "updated_at"]
        )
        _pause_for_tests(batch)
        _finish(
            batch,
            {
                "rows": table.num_rows,
                "windows": [window.start.isoformat() for window in windows],
                "kpis": sorted({name for p in partials.values() for name in p.kpis}),
            },
            now,
        )
        return True


# --- The sweeper ----------------------------------------------------------------------


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
