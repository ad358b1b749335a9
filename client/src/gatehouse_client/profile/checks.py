"""Checks of the parts of a received window profile: feature, score and latency
profiles against the spec's layouts, and the outcome, segment and KPI counts.

Each check adds its messages to a ``FieldErrors`` under the path of the part
and returns the value read, or None when it is refused.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gatehouse_client.profile import outcomes
from gatehouse_client.profile.binning import BinsMismatchError, NumericBins
from gatehouse_client.profile.categorical import CategoricalProfile
from gatehouse_client.profile.errors import FieldErrors
from gatehouse_client.profile.format import PROFILE_FORMAT_VERSION
from gatehouse_client.profile.numeric import NumericProfile
from gatehouse_client.profile.slices import Profile

MAX_GROUPS = 1000
MAX_KPIS = 100
MAX_NAME_LENGTH = 200
_INT_KEYS = {
    outcomes.BINARY: ("n", "tp", "fp", "fn", "tn", "scored"),
    outcomes.REGRESSION: ("n",),
    outcomes.MULTICLASS: ("n", "correct"),
}
_FLOAT_KEYS = {
    outcomes.BINARY: ("brier_sum",),
    outcomes.REGRESSION: ("abs_error_sum", "squared_error_sum", "error_sum"),
    outcomes.MULTICLASS: (),
}
_REQUIRED = {
    outcomes.BINARY: ("n", "tp", "fp", "fn", "tn"),
    outcomes.REGRESSION: ("n", "abs_error_sum", "squared_error_sum", "error_sum"),
    outcomes.MULTICLASS: ("n", "correct"),
}
_SEGMENT_INTS = ("count", "positive", "labelled", "correct", "label_positive")
_SEGMENT_INTS += ("true_positive",)


def read_feature(
    raw: Any, reference: Profile, path: str, errors: FieldErrors
) -> Profile | None:
    """A feature's profile, on its reference's bins or vocabulary."""
    if isinstance(reference, NumericProfile):
        return read_profile(raw, reference.bins, path, errors, required=True)
    if not _is_profile(raw, CategoricalProfile.kind, path, errors):
        return None
    try:
        profile = CategoricalProfile.from_dict(raw)
    except (ValueError, TypeError, OverflowError) as error:
        errors.add(path, _message(error))
        return None
    if (
        profile.categories != reference.categories
        or profile.tail_buckets != reference.tail_buckets
    ):
        errors.add(
            path,
            "Made on another vocabulary than the reference's (categories and "
            "tail_buckets must be the spec's): fetch the profile spec again.",
        )
        return None
    return profile


def read_profile(
    raw: Any,
    bins: NumericBins,
    path: str,
    errors: FieldErrors,
    *,
    required: bool = False,
) -> NumericProfile | None:
    """A numeric profile (feature, score or latency) on ``bins``."""
    if raw is None and not required:
        return None
    if not _is_profile(raw, NumericProfile.kind, path, errors):
        return None
    bins_id = raw.get("bins_id")
    if bins_id != bins.fingerprint:
        errors.add(
            path,
            f"Made on other bins than the reference's (bins_id {_short(bins_id)}, "
            f"expected {bins.fingerprint}): fetch the profile spec again.",
        )
        return None
    if "bins" in raw:
        try:
            sent = NumericBins.from_dict(raw["bins"])
        except (ValueError, TypeError, OverflowError, AttributeError):
            sent = None
        if sent != bins:
            errors.add(path, "bins differ from the reference's.")
            return None
    counts = raw.get("counts")
    if not isinstance(counts, list) or len(counts) != bins.n_cells:
        errors.add(
            path,
            f"counts must be a list of {bins.n_cells} cells (the reference's bins).",
        )
        return None
    for key in ("mean", "m2", "min", "max"):
        value = raw.get(key)
        if value is not None and not _finite_number(value):
            errors.add(path, f"{key} must be a finite number (not NaN or infinite).")
            return None
    if not _finite_numbers(raw.get("offsets")):
        errors.add(path, "offsets must be a list of finite numbers.")
        return None
    try:
        profile = NumericProfile.from_dict(raw, bins=bins)
    except BinsMismatchError:
        errors.add(path, "Made on other bins than the reference's.")
        return None
    except (ValueError, TypeError, OverflowError) as error:
        errors.add(path, _message(error))
        return None
    if profile.count and not (
        profile.minimum - _slack(profile.minimum)
        <= profile.mean
        <= profile.maximum + _slack(profile.maximum)
    ):
        errors.add(path, "mean must lie between min and max.")
        return None
    if not profile.count and (profile.mean or profile.m2):
        errors.add(path, "mean and m2 must be 0 when no value was counted.")
        return None
    return profile


def check_outcomes(raw: Any, task: str, path: str, errors: FieldErrors):
    """Label-joined outcome counts of the model's task (``outcomes`` module)."""
    if raw is None or raw == {}:
        return {}
    if not isinstance(raw, dict):
        errors.add(path, "Must be an object of counts.")
        return None
    ints, floats = _INT_KEYS.get(task, ("n",)), _FLOAT_KEYS.get(task, ())
    lists = ("positive_scores", "negative_scores") if task == outcomes.BINARY else ()
    before = len(errors.fields)
    for key, value in raw.items():
        where = f"{path}.{str(key)[:50]}"
        if key in ints:
            _non_negative_int(value, where, errors)
        elif key in floats:
            if not _finite_number(value):
                errors.add(where, "Must be a finite number.")
            elif key != "error_sum" and value < 0:
                errors.add(where, "Must not be negative.")
        elif key in lists:
            if (
                not isinstance(value, list)
                or len(value) != outcomes.AUC_BINS
                or not all(_is_count(v) for v in value)
            ):
                errors.add(
                    where, f"Must be {outcomes.AUC_BINS} non-negative whole numbers."
                )
        else:
            errors.add(where, "Not a count of this model's task.")
    if len(errors.fields) != before:
        return None
    if raw.get("n", 0) and any(key not in raw for key in _REQUIRED.get(task, ())):
        errors.add(path, f"Needs {', '.join(_REQUIRED[task])}.")
        return None
    n = raw.get("n", 0)
    if task == outcomes.BINARY:
        if sum(raw.get(key, 0) for key in ("tp", "fp", "fn", "tn")) != n:
            errors.add(path, "tp + fp + fn + tn must equal n.")
            return None
        scored = raw.get("scored", 0)
        scoring = ("brier_sum", "positive_scores", "negative_scores")
        if scored and any(key not in raw for key in scoring):
            errors.add(
                path, "scored needs brier_sum, positive_scores, negative_scores."
            )
            return None
        binned = sum(raw.get("positive_scores", [])) + sum(
            raw.get("negative_scores", [])
        )
        if scored > n or binned != scored:
            errors.add(path, "scored must be at most n and equal the binned scores.")
            return None
    if task == outcomes.MULTICLASS and raw.get("correct", 0) > n:
        errors.add(path, "correct must not exceed n.")
        return None
    return dict(raw)


def check_segments(raw: Any, attributes, path: str, errors: FieldErrors):
    """{attribute: {group: {count, positive, labelled, ...}}} of the model's
    fairness attributes."""
    if raw is None or raw == {}:
        return {}
    if not isinstance(raw, dict):
        errors.add(path, "Must be an object keyed by fairness attribute.")
        return None
    before = len(errors.fields)
    for attribute, groups in raw.items():
        where = f"{path}.{str(attribute)[:50]}"
        if attribute not in attributes:
            errors.add(where, "Not a fairness attribute of the model.")
            continue
        if not isinstance(groups, dict) or len(groups) > MAX_GROUPS:
            errors.add(where, f"Must be an object of at most {MAX_GROUPS} groups.")
            continue
        for group, entry in groups.items():
            at = f"{where}.{str(group)[:50]}"
            if len(group) > MAX_NAME_LENGTH or not isinstance(entry, dict):
                errors.add(at, "A group name of at most 200 characters, and counts.")
                continue
            for key, value in entry.items():
                if key in _SEGMENT_INTS:
                    _non_negative_int(value, f"{at}.{key}", errors)
                elif key == "abs_error_sum":
                    if not _finite_number(value) or value < 0:
                        errors.add(f"{at}.{key}", "Must be a finite number >= 0.")
                else:
                    errors.add(f"{at}.{str(key)[:50]}", "Unknown count.")
            if not errors.fields.get(at) and _over(entry):
                errors.add(at, "A part exceeds its whole (e.g. positive > count).")
    return dict(raw) if len(errors.fields) == before else None


def check_kpis(raw: Any, path: str, errors: FieldErrors):
    """{kpi: {count, sum, min, max}}."""
    if raw is None or raw == {}:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_KPIS:
        errors.add(path, f"Must be an object of at most {MAX_KPIS} KPIs.")
        return None
    before = len(errors.fields)
    for name, entry in raw.items():
        where = f"{path}.{str(name)[:50]}"
        if not 1 <= len(name) <= 100:
            errors.add(where, "A KPI name of 1 to 100 characters.")
            continue
        if not isinstance(entry, dict) or set(entry) != {"count", "sum", "min", "max"}:
            errors.add(where, "Must be {count, sum, min, max}.")
            continue
        if not _is_count(entry["count"]) or entry["count"] < 1:
            errors.add(where, "count must be a whole number of at least 1.")
        elif not all(_finite_number(entry[key]) for key in ("sum", "min", "max")):
            errors.add(where, "sum, min and max must be finite numbers.")
        elif entry["min"] > entry["max"]:
            errors.add(where, "min must not exceed max.")
    return dict(raw) if len(errors.fields) == before else None


# -- small readers -----------------------------------------------------------------


# (part, whole) pairs of a segment group's counts, as the fairness rates read them.
_PARTS = (
    ("positive", "count"),
    ("labelled", "count"),
    ("correct", "labelled"),
    ("label_positive", "labelled"),
    ("true_positive", "label_positive"),
)


def _over(entry: dict) -> bool:
    return any(
        isinstance(entry.get(part), int)
        and isinstance(entry.get(whole), int)
        and entry[part] > entry[whole]
        for part, whole in _PARTS
        if part in entry and whole in entry
    )


def _is_profile(raw: Any, kind: str, path: str, errors: FieldErrors) -> bool:
    if not isinstance(raw, dict):
        errors.add(path, "Must be a profile (an object).")
        return False
    if raw.get("kind") != kind:
        errors.add(path, f"Must be a {kind} profile (kind: {kind!r}).")
        return False
    version = raw.get("version")
    if isinstance(version, bool) or version != PROFILE_FORMAT_VERSION:
        errors.add(
            path,
            f"Profile format version {_short(version)}: the portal reads version "
            f"{PROFILE_FORMAT_VERSION} (upgrade gatehouse-client).",
        )
        return False
    return True


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**62


def _non_negative_int(value: Any, path: str, errors: FieldErrors) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(path, "Must be a whole number.")
    elif value < 0:
        errors.add(path, "Must not be negative.")
    elif value >= 2**62:
        errors.add(path, "Too large.")


def _finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def _finite_numbers(values: Any) -> bool:
    """A list of finite numbers (vectorised: profiles hold thousands)."""
    if not isinstance(values, list):
        return False
    if not all(type(value) is float or type(value) is int for value in values):
        return False
    try:
        return bool(np.isfinite(np.asarray(values, dtype=np.float64)).all())
    except (OverflowError, ValueError, TypeError):
        return False


def _slack(value: float) -> float:
    return 1e-9 * max(abs(value), 1.0)


def _short(value: Any) -> str:
    return repr(value)[:40]


def _message(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text[:300]
