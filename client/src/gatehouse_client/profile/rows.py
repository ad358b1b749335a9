"""What a table of predictions adds to each of its hourly windows: the table
sorted by hour, then profiled, counted and sampled hour by hour.

The portal runs this on every row batch it receives (its columns named
``f:<feature>`` and ``s:<attribute>``); a client runs the same code on its own
data (``feature_prefix=""``, ``segment_prefix=""``) and sends the result as a
window profile (``gatehouse_client.profile.window``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from gatehouse_client.profile import outcomes
from gatehouse_client.profile.binning import NumericBins
from gatehouse_client.profile.numeric import NumericProfile
from gatehouse_client.profile.segments import (
    SEGMENT_PREFIX,
    segment_arrays,
    segment_counts,
)
from gatehouse_client.profile.slices import LATENCY_BINS, Profile, feature_profile

# How the portal's normalised batch tables name feature columns.
FEATURE_PREFIX = "f:"

HOUR_SECONDS = 3600
HOUR_MICROS = HOUR_SECONDS * 1_000_000


def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR_SECONDS, tz=UTC)


def hour_of(moment: datetime) -> int:
    return int(moment.timestamp()) // HOUR_SECONDS


@dataclass
class Partial:
    """What one batch adds to one window."""

    hour: int
    start: int  # first row of the window in the (sorted) batch table
    stop: int
    features: dict[str, Profile] = field(default_factory=dict)
    score: NumericProfile | None = None
    latency: NumericProfile | None = None
    outcomes: dict[str, Any] = field(default_factory=dict)
    labelled: int = 0
    invalid_labels: int = 0
    segments: dict[str, Any] = field(default_factory=dict)
    kpis: dict[str, Any] = field(default_factory=dict)
    # Low-confidence rows, in the order they are offered to the review queue.
    review_rows: list[int] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.stop - self.start


def sort_by_hour(table: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """The table sorted by window (stable), and each row's hour."""
    micros = table.column("timestamp").combine_chunks().cast(pa.int64())
    hours = micros.to_numpy(zero_copy_only=False) // HOUR_MICROS
    if hours.size and np.any(hours[1:] < hours[:-1]):
        order = np.argsort(hours, kind="stable")
        table = table.take(pa.array(order))
        hours = hours[order]
    return table, hours


def hour_slices(hours: np.ndarray) -> list[tuple[int, int, int]]:
    """(hour, start, stop) of each run of one hour in a sorted hours array."""
    if hours.size == 0:
        return []
    boundaries = np.flatnonzero(hours[1:] != hours[:-1]) + 1
    starts = np.concatenate(([0], boundaries))
    stops = np.concatenate((boundaries, [hours.size]))
    return [(int(hours[a]), int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


@dataclass
class PredictionSettings:
    task: str
    threshold: float
    low_confidence: float | None
    seed: int


def _float_column(table: pa.Table, name: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    return table.column(name).combine_chunks().to_numpy(zero_copy_only=False)


def _object_column(table: pa.Table, name: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    column = table.column(name).combine_chunks()
    if pa.types.is_floating(column.type):
        return column.to_numpy(zero_copy_only=False)
    return np.asarray(column.to_pylist(), dtype=object)


def prediction_partials(
    table: pa.Table,
    hours: np.ndarray,
    features: dict[str, Profile],
    score_bins: NumericBins,
    settings: PredictionSettings,
    *,
    only: set[int] | None = None,
    feature_prefix: str = FEATURE_PREFIX,
    segment_prefix: str = SEGMENT_PREFIX,
) -> dict[int, Partial]:
    """Profile a (sorted) prediction table per window.

    ``features`` are the reference's profiles (their bins and vocabularies are
    the layout the window's profiles are made on); ``score_bins`` those of the
    score. Columns: ``timestamp`` and optionally ``score``, ``latency_ms``,
    ``confidence``, ``prediction``, ``label``, ``feature_prefix + <feature>``
    and ``segment_prefix + <attribute>``.
    """
    scores = _float_column(table, "score")
    latency = _float_column(table, "latency_ms")
    confidence = _float_column(table, "confidence")
    if confidence is None:
        confidence = scores
    predictions = _object_column(table, "prediction")
    labels = _object_column(table, "label")
    segments = segment_arrays(table, segment_prefix)
    positive = None
    if settings.task == outcomes.BINARY:
        positive = outcomes.predicted_positive(predictions, scores, settings.threshold)
    rows = None
    if labels is not None:
        rows = outcomes.row_outcomes(
            settings.task,
            labels,
            predictions=predictions,
            scores=scores,
            threshold=settings.threshold,
        )
    rng = np.random.default_rng(settings.seed)
    partials = {}
    for hour, start, stop in hour_slices(hours):
        if only is not None and hour not in only:
            continue
        part = Partial(hour=hour, start=start, stop=stop)
        window = table.slice(start, stop - start)
        for name, reference_profile in features.items():
            column_name = feature_prefix + name
            if column_name not in window.column_names:
                continue
            part.features[name] = feature_profile(
                window.column(column_name).combine_chunks(), reference_profile
            )
        if scores is not None:
            part.score = NumericProfile.from_values(scores[start:stop], score_bins)
        if latency is not None:
            part.latency = NumericProfile.from_values(latency[start:stop], LATENCY_BINS)
        selected = np.zeros(hours.size, dtype=bool)
        selected[start:stop] = True
        if rows is not None:
            part.outcomes = outcomes.outcome_counts(settings.task, rows, selected)
            part.labelled = part.outcomes.get("n", 0)
        if segments:
            part.segments = segment_counts(
                {name: values[start:stop] for name, values in segments.items()},
                positive=positive[start:stop] if positive is not None else None,
                rows=_slice_rows(rows, start, stop) if rows is not None else None,
                include_predictions=True,
            )
        if settings.low_confidence is not None and confidence is not None:
            values = confidence[start:stop]
            candidates = np.flatnonzero(values < settings.low_confidence) + start
            part.review_rows = rng.permutation(candidates).tolist()
        partials[hour] = part
    if rows is not None:
        for part in partials.values():
            mask = np.zeros(hours.size, dtype=bool)
            mask[part.start : part.stop] = True
            readable = rows.labelled[part.start : part.stop].sum()
            present = _present(labels[part.start : part.stop])
            part.invalid_labels = int(present - readable)
    return partials


def _present(values: np.ndarray) -> int:
    if values.dtype.kind == "f":
        return int((~np.isnan(values)).sum())
    return int(sum(value is not None for value in values))


def _slice_rows(rows: outcomes.RowOutcomes, start: int, stop: int):
    def cut(array):
        return None if array is None else array[start:stop]

    return outcomes.RowOutcomes(
        labelled=rows.labelled[start:stop],
        invalid=0,
        correct=cut(rows.correct),
        label_positive=cut(rows.label_positive),
        predicted_positive=cut(rows.predicted_positive),
        scores=cut(rows.scores),
        errors=cut(rows.errors),
    )


def metric_partials(table: pa.Table, hours: np.ndarray) -> dict[int, Partial]:
    names = np.asarray(table.column("name").to_pylist(), dtype=object)
    values = table.column("value").combine_chunks().to_numpy(zero_copy_only=False)
    partials = {}
    for hour, start, stop in hour_slices(hours):
        part = Partial(hour=hour, start=start, stop=stop)
        window_names = names[start:stop]
        window_values = values[start:stop]
        for name in dict.fromkeys(window_names.tolist()):
            selected = window_values[window_names == name]
            part.kpis[name] = {
                "count": int(selected.size),
                "sum": float(selected.sum()),
                "min": float(selected.min()),
                "max": float(selected.max()),
            }
        partials[hour] = part
    return partials


def text_values(values: np.ndarray | None, rows: int) -> list[str] | np.ndarray:
    """Prediction or label values as the index stores them (text)."""
    if values is None:
        return np.full(rows, None, dtype=object)
    return outcomes.as_texts(values)


def finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
