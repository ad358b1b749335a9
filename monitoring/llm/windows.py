"""What a batch of LLM calls adds to each hourly window, and the numbers read
off a window's (or a day's) counts. Pure functions of the batch table; no
database.

A window keeps sums only (``MonitoringWindow.llm``), so windows merge into
days and periods exactly:

``calls``, ``input_tokens``, ``output_tokens``, ``cost``, ``refusals``,
``safety_flagged`` (calls with at least one flag), ``safety`` (calls per flag
category), ``feedback`` (calls with any feedback), ``thumbs_up``,
``thumbs_down``, ``feedback_text``, ``finish`` (calls per finish reason),
``models`` (calls per base model) and ``judge`` (per metric: ``count`` of
judged calls, ``sum`` and ``sumsq`` of their scores). Latency goes into the
window's latency profile, like predictions' latency, so the latency SLO check
and percentiles work unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from gatehouse_client.profile import NumericProfile

from monitoring.llm.parsing import JUDGE_PREFIX
from monitoring.windows import LATENCY_BINS, hour_slices

# Categories kept by name per window (flags, finish reasons, models); the
# others are counted under OTHER, so a window's counts stay small.
MAX_CATEGORIES = 50
OTHER = "other"
CATEGORY_KEYS = ("safety", "finish", "models")
COUNT_KEYS = (
    "calls",
    "input_tokens",
    "output_tokens",
    "refusals",
    "safety_flagged",
    "feedback",
    "thumbs_up",
    "thumbs_down",
    "feedback_text",
)


@dataclass
class CallPartial:
    """What one batch adds to one window."""

    hour: int
    start: int
    stop: int
    stats: dict[str, Any] = field(default_factory=dict)
    latency: NumericProfile | None = None
    # Rows for the review queue: safety-flagged calls first, then thumbs down.
    flagged_rows: list[int] = field(default_factory=list)


@dataclass
class CallArrays:
    """The batch's columns as NumPy arrays, read once."""

    input_tokens: np.ndarray
    output_tokens: np.ndarray
    cost: np.ndarray
    latency: np.ndarray
    refusal: np.ndarray
    flagged: np.ndarray
    flag_parents: np.ndarray
    flag_names: np.ndarray
    up: np.ndarray
    down: np.ndarray
    has_text: np.ndarray
    finish: np.ndarray
    models: np.ndarray
    judge: dict[str, np.ndarray]

    @classmethod
    def of(cls, table: pa.Table) -> CallArrays:
        def numbers(name):
            return (
                table.column(name)
                .combine_chunks()
                .to_numpy(zero_copy_only=False)
                .astype(np.float64)
            )

        def texts(name):
            return np.asarray(
                table.column(name).combine_chunks().to_pylist(), dtype=object
            )

        flags = table.column("safety_flags").combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(flags), 0)
        feedback = table.column("feedback").combine_chunks()
        text = table.column("feedback_text").combine_chunks()
        has_text = pc.fill_null(pc.greater(pc.utf8_length(text), 0), False)
        return cls(
            input_tokens=numbers("input_tokens"),
            output_tokens=numbers("output_tokens"),
            cost=numbers("cost"),
            latency=numbers("latency_ms"),
            refusal=np.asarray(table.column("refusal").combine_chunks()),
            flagged=lengths.to_numpy(zero_copy_only=False) > 0,
            flag_parents=pc.list_parent_indices(flags).to_numpy(zero_copy_only=False),
            flag_names=np.asarray(pc.list_flatten(flags).to_pylist(), dtype=object),
            up=np.asarray(pc.fill_null(pc.equal(feedback, "up"), False)),
            down=np.asarray(pc.fill_null(pc.equal(feedback, "down"), False)),
            has_text=np.asarray(has_text),
            finish=texts("finish_reason"),
            models=texts("model"),
            judge={
                name[len(JUDGE_PREFIX) :]: numbers(name)
                for name in table.column_names
                if name.startswith(JUDGE_PREFIX)
            },
        )


def _counts(values: np.ndarray) -> dict[str, int]:
    present = [value for value in values.tolist() if value is not None]
    names, counts = np.unique(np.asarray(present, dtype=object), return_counts=True)
    return {str(name): int(count) for name, count in zip(names, counts, strict=True)}


def slice_stats(arrays: CallArrays, start: int, stop: int) -> dict[str, Any]:
    """The sums of rows ``start:stop`` of a batch."""
    cut = slice(start, stop)
    up, down, text = arrays.up[cut], arrays.down[cut], arrays.has_text[cut]
    in_slice = (arrays.flag_parents >= start) & (arrays.flag_parents < stop)
    judge = {}
    for metric, scores in arrays.judge.items():
        values = scores[cut]
        values = values[~np.isnan(values)]
        if values.size:
            judge[metric] = {
                "count": int(values.size),
                "sum": float(values.sum()),
                "sumsq": float(np.square(values).sum()),
            }
    return {
        "calls": stop - start,
        "input_tokens": int(arrays.input_tokens[cut].sum()),
        "output_tokens": int(arrays.output_tokens[cut].sum()),
        "cost": float(arrays.cost[cut].sum()),
        "refusals": int(arrays.refusal[cut].sum()),
        "safety_flagged": int(arrays.flagged[cut].sum()),
        "safety": _counts(arrays.flag_names[in_slice]),
        "feedback": int((up | down | text).sum()),
        "thumbs_up": int(up.sum()),
        "thumbs_down": int(down.sum()),
        "feedback_text": int(text.sum()),
        "finish": _counts(arrays.finish[cut]),
        "models": _counts(arrays.models[cut]),
        "judge": judge,
    }


def call_partials(table: pa.Table, hours: np.ndarray) -> dict[int, CallPartial]:
    """Count a (sorted by hour) batch of calls per window."""
    arrays = CallArrays.of(table)
    partials = {}
    for hour, start, stop in hour_slices(hours):
        part = CallPartial(hour=hour, start=start, stop=stop)
        part.stats = slice_stats(arrays, start, stop)
        part.latency = NumericProfile.from_values(
            arrays.latency[start:stop], LATENCY_BINS
        )
        flagged = np.flatnonzero(arrays.flagged[start:stop]) + start
        down = np.flatnonzero(arrays.down[start:stop] & ~arrays.flagged[start:stop])
        part.flagged_rows = flagged.tolist() + (down + start).tolist()
        partials[hour] = part
    return partials


def _merge_categories(left: dict, right: dict) -> dict[str, int]:
    merged = dict(left)
    for name, count in right.items():
        merged[name] = merged.get(name, 0) + count
    if len(merged) <= MAX_CATEGORIES:
        return merged
    ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    kept = dict(ranked[: MAX_CATEGORIES - 1])
    kept[OTHER] = kept.get(OTHER, 0) + sum(
        count for _, count in ranked[MAX_CATEGORIES - 1 :]
    )
    return kept


def merge_stats(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """The sums of two windows (or a window and a batch), exactly."""
    if not left:
        return dict(right)
    if not right:
        return dict(left)
    merged: dict[str, Any] = {
        key: left.get(key, 0) + right.get(key, 0) for key in COUNT_KEYS
    }
    merged["cost"] = float(left.get("cost", 0.0)) + float(right.get("cost", 0.0))
    for key in CATEGORY_KEYS:
        merged[key] = _merge_categories(left.get(key, {}), right.get(key, {}))
    judge = {name: dict(stats) for name, stats in left.get("judge", {}).items()}
    for name, stats in right.get("judge", {}).items():
        into = judge.setdefault(name, {"count": 0, "sum": 0.0, "sumsq": 0.0})
        for key in ("count", "sum", "sumsq"):
            into[key] += stats[key]
    merged["judge"] = judge
    return merged


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def call_metrics(stats: dict[str, Any]) -> dict[str, Any]:
    """What people read off a window's (or a day's) sums."""
    calls = stats.get("calls", 0)
    if not calls:
        return {"calls": 0}
    thumbs = stats.get("thumbs_up", 0) + stats.get("thumbs_down", 0)
    judge = {}
    for name, entry in sorted(stats.get("judge", {}).items()):
        count = entry["count"]
        mean = entry["sum"] / count
        variance = max(entry["sumsq"] / count - mean * mean, 0.0)
        judge[name] = {
            "mean": mean,
            "std": math.sqrt(variance),
            "count": count,
            "sampled_share": count / calls,
        }
    tokens = stats["input_tokens"] + stats["output_tokens"]
    return {
        "calls": calls,
        "input_tokens": stats["input_tokens"],
        "output_tokens": stats["output_tokens"],
        "tokens": tokens,
        "cost": stats["cost"],
        "cost_per_call": stats["cost"] / calls,
        "input_tokens_per_call": stats["input_tokens"] / calls,
        "output_tokens_per_call": stats["output_tokens"] / calls,
        "tokens_per_call": tokens / calls,
        "refusal_rate": stats["refusals"] / calls,
        "safety_flag_rate": stats["safety_flagged"] / calls,
        "feedback_rate": stats["feedback"] / calls,
        "thumbs_down_share": _ratio(stats.get("thumbs_down", 0), thumbs),
        "safety": dict(stats.get("safety", {})),
        "finish": dict(stats.get("finish", {})),
        "models": dict(stats.get("models", {})),
        "judge": judge,
    }
