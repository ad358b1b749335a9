"""Label-joined outcomes: per-row results, mergeable counts, metrics from counts.

Counts are plain JSON (numbers and equal-length lists) that merge by addition,
so a window's outcomes are exact whatever order its labels arrive in.

* binary classification: a label is 1/0 (or "1"/"0", "true"/"false"); the
  predicted class is the ``prediction`` column if sent, else ``score >=
  decision_threshold``. Counts: tp, fp, tn, fn, the Brier sum, and the scores
  of positives and negatives on 200 equal bins of [0, 1] for the AUC (ties
  inside a bin count a half, so the AUC is within one bin's mass of exact).
* multiclass: accuracy (the prediction equals the label, compared as text).
* regression: absolute, squared and signed errors of the prediction.

Labels a task cannot read (a "maybe" for a binary model) are counted as
``invalid`` and otherwise ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

BINARY = "binary_classification"
MULTICLASS = "multiclass"
REGRESSION = "regression"

AUC_BINS = 200

_TRUE = {"1", "1.0", "true", "yes", "positive"}
_FALSE = {"0", "0.0", "false", "no", "negative"}

# Which way is better for each metric the checks can compare with a baseline.
HIGHER_IS_BETTER = {
    "accuracy": True,
    "auc": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "brier": False,
    "mae": False,
    "rmse": False,
}


def binary_values(values: Any) -> np.ndarray:
    """1.0, 0.0, or NaN (missing or unreadable) for each value."""
    array = np.asarray(values, dtype=object)
    result = np.full(array.shape[0], np.nan)
    for index, value in enumerate(array):
        if value is None:
            continue
        if isinstance(value, float | int | np.floating | np.integer) and not isinstance(
            value, bool
        ):
            if value == 1:
                result[index] = 1.0
            elif value == 0:
                result[index] = 0.0
            continue
        text = str(value).strip().lower()
        if text in _TRUE:
            result[index] = 1.0
        elif text in _FALSE:
            result[index] = 0.0
    return result


def _binary_fast(values: np.ndarray) -> np.ndarray:
    """Vectorised ``binary_values`` for float arrays (NaN stays NaN)."""
    result = np.full(values.shape[0], np.nan)
    result[values == 1] = 1.0
    result[values == 0] = 0.0
    return result


def as_binary(values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return _binary_fast(values)
    return binary_values(values)


def as_numbers(values: Any) -> np.ndarray:
    """Floats for numbers or numeric text; NaN for anything else."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return values
    result = np.full(len(values), np.nan)
    for index, value in enumerate(values):
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            result[index] = number
    return result


def as_texts(values: Any) -> np.ndarray:
    """Text for each value (numbers without a trailing .0), None when missing."""
    result = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            result[index] = None
        elif isinstance(value, float) and value.is_integer():
            result[index] = str(int(value))
        else:
            result[index] = str(value)
    return result


@dataclass
class RowOutcomes:
    """What each labelled row contributes (rows without a usable label are
    ``labelled == False``)."""

    labelled: np.ndarray
    invalid: int
    correct: np.ndarray | None = None
    label_positive: np.ndarray | None = None
    predicted_positive: np.ndarray | None = None
    scores: np.ndarray | None = None
    errors: np.ndarray | None = None


def predicted_positive(
    predictions: Any | None, scores: np.ndarray | None, threshold: float
) -> np.ndarray | None:
    """The predicted class of a binary model per row (None when unknowable)."""
    if predictions is not None:
        values = as_binary(predictions)
        if scores is not None:
            fallback = np.where(np.isnan(scores), np.nan, scores >= threshold)
            values = np.where(np.isnan(values), fallback, values)
        return values
    if scores is not None:
        return np.where(np.isnan(scores), np.nan, (scores >= threshold).astype(float))
    return None


def row_outcomes(
    task: str,
    labels: Any,
    *,
    predictions: Any | None,
    scores: np.ndarray | None,
    threshold: float,
) -> RowOutcomes:
    """Per-row outcomes of labelled predictions. ``labels`` may hold None."""
    count = len(labels)
    if isinstance(labels, np.ndarray) and labels.dtype.kind == "f":
        present = ~np.isnan(labels)
    else:
        present = np.fromiter(
            (
                value is not None
                and not (isinstance(value, float) and math.isnan(value))
                for value in labels
            ),
            bool,
            count,
        )
    if task == BINARY:
        truth = as_binary(labels)
        readable = ~np.isnan(truth)
        guessed = predicted_positive(predictions, scores, threshold)
        if guessed is None:
            guessed = np.full(count, np.nan)
        usable = readable & ~np.isnan(guessed)
        return RowOutcomes(
            labelled=usable,
            invalid=int((present & ~readable).sum()),
            correct=usable & (truth == guessed),
            label_positive=usable & (truth == 1),
            predicted_positive=usable & (guessed == 1),
            scores=np.where(usable, scores, np.nan) if scores is not None else None,
        )
    if task == REGRESSION:
        truth = as_numbers(labels)
        guessed = as_numbers(predictions) if predictions is not None else None
        if guessed is None:
            guessed = scores if scores is not None else np.full(count, np.nan)
        readable = ~np.isnan(truth)
        usable = readable & ~np.isnan(guessed)
        return RowOutcomes(
            labelled=usable,
            invalid=int((present & ~readable).sum()),
            errors=np.where(usable, guessed - truth, np.nan),
        )
    truth_text = as_texts(labels)
    guessed_text = (
        as_texts(predictions) if predictions is not None else np.full(count, None)
    )
    usable = np.fromiter(
        (
            t is not None and g is not None
            for t, g in zip(truth_text, guessed_text, strict=True)
        ),
        bool,
        count,
    )
    return RowOutcomes(
        labelled=usable,
        invalid=0,
        correct=usable & (truth_text == guessed_text),
    )


def outcome_counts(task: str, rows: RowOutcomes, mask: np.ndarray | None = None):
    """Mergeable counts of the rows selected by ``mask`` (all rows if None)."""
    labelled = rows.labelled if mask is None else rows.labelled & mask
    n = int(labelled.sum())
    counts: dict[str, Any] = {"n": n}
    if task == BINARY:
        truth = rows.label_positive[labelled]
        guessed = rows.predicted_positive[labelled]
        counts.update(
            tp=int((truth & guessed).sum()),
            fp=int((~truth & guessed).sum()),
            fn=int((truth & ~guessed).sum()),
            tn=int((~truth & ~guessed).sum()),
        )
        if rows.scores is not None:
            scores = rows.scores[labelled]
            scored = ~np.isnan(scores)
            truth_scored = truth[scored]
            scores = scores[scored]
            counts["scored"] = int(scored.sum())
            counts["brier_sum"] = float(((scores - truth_scored) ** 2).sum())
            cells = np.clip((scores * AUC_BINS).astype(np.int64), 0, AUC_BINS - 1)
            counts["positive_scores"] = np.bincount(
                cells[truth_scored], minlength=AUC_BINS
            ).tolist()
            counts["negative_scores"] = np.bincount(
                cells[~truth_scored], minlength=AUC_BINS
            ).tolist()
    elif task == REGRESSION:
        errors = rows.errors[labelled]
        counts.update(
            abs_error_sum=float(np.abs(errors).sum()),
            squared_error_sum=float((errors**2).sum()),
            error_sum=float(errors.sum()),
        )
    else:
        counts["correct"] = int(rows.correct[labelled].sum())
    return counts


def merge_counts(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Add two count dicts key by key (lists element-wise)."""
    merged = dict(left)
    for key, value in right.items():
        if key not in merged:
            merged[key] = value
        elif isinstance(value, list):
            merged[key] = [a + b for a, b in zip(merged[key], value, strict=True)]
        else:
            merged[key] = merged[key] + value
    return merged


def binned_auc(positive: list[int], negative: list[int]) -> float | None:
    pos = np.asarray(positive, dtype=np.float64)
    neg = np.asarray(negative, dtype=np.float64)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        return None
    below = np.concatenate(([0.0], np.cumsum(neg)[:-1]))
    wins = (pos * below).sum() + 0.5 * (pos * neg).sum()
    return float(wins / (n_pos * n_neg))


def metrics_from_counts(task: str, counts: dict[str, Any]) -> dict[str, float]:
    """Online performance metrics of a window (only those its counts support)."""
    n = counts.get("n", 0)
    if not n:
        return {}
    result: dict[str, float] = {"labelled": float(n)}
    if task == BINARY:
        tp, fp, fn, tn = (counts.get(key, 0) for key in ("tp", "fp", "fn", "tn"))
        result["accuracy"] = (tp + tn) / n
        result["positive_rate"] = (tp + fn) / n
        if tp + fp:
            result["precision"] = tp / (tp + fp)
        if tp + fn:
            result["recall"] = tp / (tp + fn)
        if "precision" in result and "recall" in result:
            total = result["precision"] + result["recall"]
            result["f1"] = (
                2 * result["precision"] * result["recall"] / total if total else 0.0
            )
        if counts.get("scored"):
            result["brier"] = counts["brier_sum"] / counts["scored"]
            auc = binned_auc(counts["positive_scores"], counts["negative_scores"])
            if auc is not None:
                result["auc"] = auc
    elif task == REGRESSION:
        result["mae"] = counts["abs_error_sum"] / n
        result["rmse"] = math.sqrt(counts["squared_error_sum"] / n)
        result["bias"] = counts["error_sum"] / n
    else:
        result["accuracy"] = counts["correct"] / n
    return result
