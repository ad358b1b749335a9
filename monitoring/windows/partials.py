"""A batch's contribution to its hourly windows, computed without the database.

``monitoring.services.aggregation`` calls these outside any transaction (the
profiling is the expensive part, and runs in parallel on every worker), then
merges the results into the window rows under their locks. Everything here is
a pure function of the batch table and the window's reference.

Windows are hours in UTC. Numeric features are profiled on the bins of the
window's reference, categorical features on its vocabulary (values it did not
have count as ``__other__``); latency on fixed logarithmic bins (0.01 ms to
10 minutes, 400 bins: a percentile read off them is within 2.1 % of the
recorded value); scores on the reference's score bins, or 100 equal bins on
[0, 1] when the reference had no score.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from monitoring import outcomes
from monitoring.ingestion import CATEGORICAL, FEATURE_PREFIX, NUMERIC, SEGMENT_PREFIX
from monitoring.profiles import (
    CategoricalProfile,
    NumericBins,
    NumericProfile,
    Profile,
    profile_from_dict,
)

HOUR_SECONDS = 3600
HOUR_MICROS = HOUR_SECONDS * 1_000_000
MISSING_GROUP = "(missing)"

LATENCY_BINS = NumericBins(
    edges=np.geomspace(0.01, 600_000.0, 401), tail_scale=0.001, tail_bins=8
)
DEFAULT_SCORE_BINS = NumericBins(
    edges=np.linspace(0.0, 1.0, 101), tail_scale=0.01, tail_bins=20
)


def hour_start(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * HOUR_SECONDS, tz=UTC)


def hour_of(moment: datetime) -> int:
    return int(moment.timestamp()) // HOUR_SECONDS


# --- References --------------------------------------------------------------------


@dataclass
class ReferenceState:
    """A stored reference, rebuilt into profiles (and cached by id)."""

    id: int | None
    features: dict[str, Profile]
    score: NumericProfile | None

    @property
    def score_bins(self) -> NumericBins:
        return self.score.bins if self.score is not None else DEFAULT_SCORE_BINS

    def kind_of(self, feature: str) -> str | None:
        profile = self.features.get(feature)
        if profile is None:
            return None
        return NUMERIC if isinstance(profile, NumericProfile) else CATEGORICAL


_REFERENCE_CACHE: dict[int, ReferenceState] = {}
_REFERENCE_CACHE_SIZE = 256


def reference_state(
    reference_id: int | None, features: dict | None, score: dict | None
) -> ReferenceState:
    if reference_id is not None and reference_id in _REFERENCE_CACHE:
        return _REFERENCE_CACHE[reference_id]
    state = ReferenceState(
        id=reference_id,
        features={
            name: profile_from_dict(data) for name, data in (features or {}).items()
        },
        score=NumericProfile.from_dict(score) if score else None,
    )
    if reference_id is not None:
        if len(_REFERENCE_CACHE) >= _REFERENCE_CACHE_SIZE:
            _REFERENCE_CACHE.pop(next(iter(_REFERENCE_CACHE)))
        _REFERENCE_CACHE[reference_id] = state
    return state


def build_reference(
    table: pa.Table, features: list[tuple[str, str]]
) -> tuple[dict[str, dict], dict | None]:
    """Profiles of a reference sample: bins and vocabularies are fixed here."""
    profiles = {}
    for name, kind in features:
        column = table.column(FEATURE_PREFIX + name).combine_chunks()
        if kind == NUMERIC:
            values = column.to_numpy(zero_copy_only=False)
            if np.isnan(values).all():
                # No value to fit bins on (a bootstrap batch with the feature
                # all missing): fall back to a unit range.
                bins = NumericBins(edges=np.array([0.0, 1.0]), tail_scale=1.0)
                profile = NumericProfile.from_values(values, bins)
            else:
                profile = NumericProfile.from_reference(values)
        else:
            counted, missing = _value_counts(column)
            ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
            vocabulary = tuple(name for name, _ in ranked[:100])
            profile = _categorical(counted, missing, vocabulary)
        profiles[name] = profile.to_dict()
    score = None
    if "score" in table.column_names:
        values = table.column("score").to_numpy(zero_copy_only=False)
        if (~np.isnan(values)).sum() >= 2:
            score = NumericProfile.from_reference(values).to_dict()
    return profiles, score


# --- Profiles of a slice -------------------------------------------------------------


def _value_counts(array: pa.Array) -> tuple[dict[str, int], int]:
    missing = array.null_count
    if missing:
        array = array.drop_null()
    if len(array) == 0:
        return {}, missing
    counted = pc.value_counts(array)
    return (
        dict(
            zip(
                counted.field("values").to_pylist(),
                counted.field("counts").to_pylist(),
                strict=True,
            )
        ),
        missing,
    )


def _categorical(
    counted: dict[str, int], missing: int, categories: tuple[str, ...]
) -> CategoricalProfile:
    counted = dict(counted)
    counts = [counted.pop(name, 0) for name in categories]
    return CategoricalProfile(
        categories=categories,
        counts=np.asarray(counts, dtype=np.int64),
        other=sum(counted.values()),
        missing=missing,
    )


def feature_profile(array: pa.Array, reference: Profile) -> Profile:
    if isinstance(reference, NumericProfile):
        return NumericProfile.from_values(
            array.to_numpy(zero_copy_only=False), reference.bins
        )
    counted, missing = _value_counts(array)
    return _categorical(counted, missing, reference.categories)


def empty_like(reference: Profile) -> Profile:
    if isinstance(reference, NumericProfile):
        return NumericProfile.empty(reference.bins)
    return CategoricalProfile.empty(reference.categories)


def quantile(profile: NumericProfile | None, q: float) -> float | None:
    """The q-quantile read off a profile: linear inside the cell that holds it,
    clipped to the observed min and max."""
    if profile is None or profile.count == 0:
        return None
    counts = profile.counts
    cumulative = np.cumsum(counts)
    target = q * profile.count
    cell = int(np.searchsorted(cumulative, target, side="left"))
    cell = min(cell, counts.size - 1)
    before = cumulative[cell] - counts[cell]
    bins = profile.bins
    lower = max(float(bins.cell_lower[cell]), profile.minimum)
    upper = min(float(bins.cell_upper[cell]), profile.maximum)
    if upper <= lower or counts[cell] == 0:
        return float(min(max(lower, profile.minimum), profile.maximum))
    fraction = (target - before) / counts[cell]
    return float(lower + min(max(fraction, 0.0), 1.0) * (upper - lower))


def share_above(profile: NumericProfile | None, threshold: float) -> float | None:
    """Share of values above ``threshold`` (linear inside the cell that holds it)."""
    if profile is None or profile.count == 0:
        return None
    bins = profile.bins
    lower, upper = bins.cell_lower, bins.cell_upper
    counts = profile.counts.astype(np.float64)
    above = counts[lower >= threshold].sum()
    inside = (lower < threshold) & (upper > threshold)
    for cell in np.flatnonzero(inside & (counts > 0)):
        low = max(float(lower[cell]), profile.minimum)
        high = min(float(upper[cell]), profile.maximum)
        if high > low:
            above += counts[cell] * min(max((high - threshold) / (high - low), 0), 1)
        elif low > threshold:
            above += counts[cell]
    return float(above / profile.count)


# --- Segments -----------------------------------------------------------------------


def _group_names(values: np.ndarray) -> np.ndarray:
    return np.asarray(
        [MISSING_GROUP if value is None else str(value) for value in values],
        dtype=object,
    )


def segment_counts(
    segments: dict[str, np.ndarray],
    *,
    positive: np.ndarray | None,
    rows: outcomes.RowOutcomes | None,
    include_predictions: bool,
) -> dict[str, dict[str, dict[str, float]]]:
    """Per attribute and group: predictions, predicted positives, and the
    label-joined counts fairness metrics are read from."""
    result: dict[str, dict[str, dict[str, float]]] = {}
    for attribute, raw in segments.items():
        names = _group_names(raw)
        groups: dict[str, dict[str, float]] = {}
        for group in dict.fromkeys(names.tolist()):
            mask = names == group
            entry: dict[str, float] = {}
            if include_predictions:
                entry["count"] = int(mask.sum())
                if positive is not None:
                    entry["positive"] = int(((positive == 1) & mask).sum())
            if rows is not None:
                labelled = rows.labelled & mask
                entry["labelled"] = int(labelled.sum())
                if rows.correct is not None:
                    entry["correct"] = int((rows.correct & labelled).sum())
                if rows.label_positive is not None:
                    entry["label_positive"] = int(
                        (rows.label_positive & labelled).sum()
                    )
                    entry["true_positive"] = int(
                        (rows.label_positive & rows.predicted_positive & labelled).sum()
                    )
                if rows.errors is not None:
                    entry["abs_error_sum"] = float(
                        np.abs(np.where(labelled, rows.errors, 0.0)).sum()
                    )
            groups[group] = entry
        result[attribute] = groups
    return result


def merge_segments(left: dict, right: dict) -> dict:
    merged = {attribute: dict(groups) for attribute, groups in left.items()}
    for attribute, groups in right.items():
        target = merged.setdefault(attribute, {})
        for group, counts in groups.items():
            target[group] = outcomes.merge_counts(target.get(group, {}), counts)
    return merged


def merge_kpis(left: dict, right: dict) -> dict:
    merged = {name: dict(values) for name, values in left.items()}
    for name, values in right.items():
        current = merged.get(name)
        if current is None:
            merged[name] = dict(values)
            continue
        current["count"] += values["count"]
        current["sum"] += values["sum"]
        current["min"] = min(current["min"], values["min"])
        current["max"] = max(current["max"], values["max"])
    return merged


# --- Batches -------------------------------------------------------------------------


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


def segment_arrays(table: pa.Table) -> dict[str, np.ndarray]:
    return {
        name[len(SEGMENT_PREFIX) :]: np.asarray(
            table.column(name).to_pylist(), dtype=object
        )
        for name in table.column_names
        if name.startswith(SEGMENT_PREFIX)
    }


def prediction_partials(
    table: pa.Table,
    hours: np.ndarray,
    reference: ReferenceState,
    settings: PredictionSettings,
    *,
    only: set[int] | None = None,
) -> dict[int, Partial]:
    """Profile a (sorted) prediction batch per window."""
    scores = _float_column(table, "score")
    latency = _float_column(table, "latency_ms")
    confidence = _float_column(table, "confidence")
    if confidence is None:
        confidence = scores
    predictions = _object_column(table, "prediction")
    labels = _object_column(table, "label")
    segments = segment_arrays(table)
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
        for name, reference_profile in reference.features.items():
            column_name = FEATURE_PREFIX + name
            if column_name not in window.column_names:
                continue
            part.features[name] = feature_profile(
                window.column(column_name).combine_chunks(), reference_profile
            )
        if scores is not None:
            part.score = NumericProfile.from_values(
                scores[start:stop], reference.score_bins
            )
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


# --- The label-join index rows --------------------------------------------------------


def segment_json(table: pa.Table) -> np.ndarray | None:
    """Each row's segments as compact JSON text (None when the batch has none).

    Computed per distinct combination, so the cost is per group, not per row.
    """
    columns = [name for name in table.column_names if name.startswith(SEGMENT_PREFIX)]
    if not columns:
        return None
    codes = np.zeros(table.num_rows, dtype=np.int64)
    dictionaries = []
    stride = 1
    for name in columns:
        encoded = pc.dictionary_encode(table.column(name).combine_chunks())
        indices = encoded.indices.to_numpy(zero_copy_only=False)
        size = len(encoded.dictionary) + 1
        indices = np.where(np.isnan(indices.astype(float)), size - 1, indices)
        codes += indices.astype(np.int64) * stride
        stride *= size
        dictionaries.append((name[len(SEGMENT_PREFIX) :], encoded.dictionary, size))
    unique, inverse = np.unique(codes, return_inverse=True)
    texts = []
    for code in unique.tolist():
        entry = {}
        for attribute, dictionary, size in dictionaries:
            index = code % size
            code //= size
            entry[attribute] = None if index == size - 1 else dictionary[index].as_py()
        texts.append(json.dumps(entry, separators=(",", ":")))
    return np.asarray(texts, dtype=object)[inverse]


def text_values(values: np.ndarray | None, rows: int) -> list[str] | np.ndarray:
    """Prediction or label values as the index stores them (text)."""
    if values is None:
        return np.full(rows, None, dtype=object)
    return outcomes.as_texts(values)


def finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
