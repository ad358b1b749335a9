"""``WindowProfile``: everything one hour of predictions adds to a monitoring
window, as a client sends it and as the portal merges it.

A window profile holds, for one hour (UTC): the number of predictions
(``rows``), a profile per feature on the reference's layout, the score and
latency profiles, the label-joined outcome counts (``outcomes``, ``labelled``,
``invalid_labels``), the fairness counts per segment group (``segments``) and
KPI sums (``kpis``). Profiles of the same hour merge associatively and
commutatively (``merge``); ``profile_table`` builds them from a table with the
same code the portal runs on the rows it receives.

The wire form (``to_dict`` / ``from_dict``) is documented in docs/profiles.md;
``from_dict`` checks a received window against the spec and raises
``ProfileInvalid`` naming every problem.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from gatehouse_client.profile import outcomes
from gatehouse_client.profile.checks import (
    check_kpis,
    check_outcomes,
    check_segments,
    read_feature,
    read_profile,
)
from gatehouse_client.profile.errors import FieldErrors, ProfileInvalid
from gatehouse_client.profile.numeric import NumericProfile
from gatehouse_client.profile.rows import (
    HOUR_SECONDS,
    Partial,
    hour_of,
    hour_start,
    prediction_partials,
    sort_by_hour,
)
from gatehouse_client.profile.segments import merge_kpis, merge_segments
from gatehouse_client.profile.slices import Profile
from gatehouse_client.profile.spec import ProfileSpec

WIRE_VERSION = 1
# Relative tolerance of the floating-point fields (numeric offsets, mean, m2,
# error and Brier sums, KPI sums) between profiles of the same values merged in
# different orders or partitions; every count, min and max is exact.
FLOAT_RTOL = 1e-9


@dataclass
class WindowProfile:
    """What one hour of predictions adds to its window (see the module doc)."""

    hour: int  # hours since the epoch, UTC
    rows: int = 0
    features: dict[str, Profile] = field(default_factory=dict)
    score: NumericProfile | None = None
    latency: NumericProfile | None = None
    outcomes: dict[str, Any] = field(default_factory=dict)
    labelled: int = 0
    invalid_labels: int = 0
    segments: dict[str, Any] = field(default_factory=dict)
    kpis: dict[str, Any] = field(default_factory=dict)

    @property
    def start(self) -> datetime:
        return hour_start(self.hour)

    @classmethod
    def from_partial(cls, part: Partial) -> WindowProfile:
        return cls(
            hour=part.hour,
            rows=part.rows,
            features=dict(part.features),
            score=part.score,
            latency=part.latency,
            outcomes=dict(part.outcomes),
            labelled=part.labelled,
            invalid_labels=part.invalid_labels,
            segments=part.segments,
            kpis=part.kpis,
        )

    # -- merge -------------------------------------------------------------------

    def merge(self, other: WindowProfile) -> WindowProfile:
        """Both profiles together (same hour; inputs unchanged)."""
        if self.hour != other.hour:
            raise ValueError("window profiles of different hours do not merge")
        features = dict(self.features)
        for name, profile in other.features.items():
            current = features.get(name)
            features[name] = profile if current is None else current.merge(profile)
        return WindowProfile(
            hour=self.hour,
            rows=self.rows + other.rows,
            features=features,
            score=_merge_optional(self.score, other.score),
            latency=_merge_optional(self.latency, other.latency),
            outcomes=outcomes.merge_counts(self.outcomes, other.outcomes),
            labelled=self.labelled + other.labelled,
            invalid_labels=self.invalid_labels + other.invalid_labels,
            segments=merge_segments(self.segments, other.segments),
            kpis=merge_kpis(self.kpis, other.kpis),
        )

    def differences(self, other: WindowProfile, *, rtol: float = FLOAT_RTOL):
        """What differs between two profiles beyond the stated tolerance (counts,
        min and max exactly; floating-point sums within ``rtol``): empty when
        they are the same window profile."""
        left, right = self.to_dict(), other.to_dict()
        found: list[str] = []
        _compare(left, right, "", rtol, found)
        return found

    # -- wire form -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "start": self.start.strftime("%Y-%m-%dT%H:00:00Z"),
            "rows": self.rows,
            "features": {
                name: _dump(profile) for name, profile in sorted(self.features.items())
            },
        }
        if self.score is not None:
            data["score"] = self.score.to_dict(include_bins=False)
        if self.latency is not None:
            data["latency"] = self.latency.to_dict(include_bins=False)
        if self.outcomes:
            data["outcomes"] = self.outcomes
            data["labelled"] = self.labelled
        if self.invalid_labels:
            data["invalid_labels"] = self.invalid_labels
        if self.segments:
            data["segments"] = self.segments
        if self.kpis:
            data["kpis"] = self.kpis
        return data

    @classmethod
    def from_dict(
        cls,
        data: Any,
        spec: ProfileSpec,
        *,
        path: str = "",
        errors: FieldErrors | None = None,
    ) -> WindowProfile | None:
        """Read and check one received window against ``spec``.

        Raises ``ProfileInvalid`` naming every problem, or, given ``errors``,
        adds them there and returns None.
        """
        own = errors is None
        errors = FieldErrors() if errors is None else errors
        before = len(errors.fields)
        window = _read_window(data, spec, path, errors)
        if own:
            errors.raise_if_any("The window profile was refused.")
        return window if len(errors.fields) == before else None


def merge_windows(profiles: Iterable[WindowProfile]) -> list[WindowProfile]:
    """Merge profiles hour by hour; one profile per hour, in hour order."""
    merged: dict[int, WindowProfile] = {}
    for profile in profiles:
        current = merged.get(profile.hour)
        merged[profile.hour] = profile if current is None else current.merge(profile)
    return [merged[hour] for hour in sorted(merged)]


def profile_table(
    table: pa.Table,
    spec: ProfileSpec,
    *,
    feature_prefix: str = "",
    segment_prefix: str = "",
) -> list[WindowProfile]:
    """Window profiles (one per hour, in order) of a table of predictions.

    Columns: ``timestamp`` (an Arrow timestamp; naive values are UTC), each
    feature of the spec under ``feature_prefix + name`` (a feature the table
    lacks is not profiled), and optionally ``score``, ``latency_ms``,
    ``prediction``, ``label`` and each segment attribute under
    ``segment_prefix + name``. The same code profiles the rows the portal
    receives, so the result equals the window profile of pushing these rows.
    """
    if "timestamp" not in table.column_names:
        raise ProfileInvalid(
            "The table has no timestamp column.", {"timestamp": ["Required."]}
        )
    timestamps = table.column("timestamp")
    if not pa.types.is_timestamp(timestamps.type):
        raise ProfileInvalid(
            "The timestamp column must be an Arrow timestamp.",
            {"timestamp": [f"Got {timestamps.type}."]},
        )
    if timestamps.null_count:
        raise ProfileInvalid(
            "The timestamp column has missing values.", {"timestamp": ["Required."]}
        )
    # The portal's column names: fixed columns as they are, features under
    # f:<name>, segments under s:<name>, so that the two can never collide.
    columns = {"timestamp": timestamps.cast(pa.timestamp("us", tz="UTC"))}
    for name in ("score", "latency_ms", "prediction", "label"):
        if name in table.column_names:
            columns[name] = table.column(name)
    for name in spec.features:
        if feature_prefix + name in table.column_names:
            column = table.column(feature_prefix + name)
            kind = spec.kind_of(name)
            columns["f:" + name] = _as_type(column, name, kind == "numeric")
    for name in spec.segments:
        if segment_prefix + name in table.column_names:
            columns["s:" + name] = _as_type(
                table.column(segment_prefix + name), name, False
            )
    table = pa.table(columns)
    table, hours = sort_by_hour(table)
    partials = prediction_partials(
        table, hours, spec.features, spec.score_bins, spec.settings()
    )
    return [WindowProfile.from_partial(partials[hour]) for hour in sorted(partials)]


def _as_type(column: pa.ChunkedArray, name: str, numeric: bool) -> pa.ChunkedArray:
    """Numbers as float64, categories and groups as text (integers written out),
    as the portal normalises the rows it receives."""
    kind = column.type
    if numeric and (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_null(kind)
    ):
        return column.cast(pa.float64())
    if not numeric and (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_null(kind)
    ):
        return column.cast(pa.string())
    if not numeric and pa.types.is_dictionary(kind):
        return _as_type(column.cast(kind.value_type), name, numeric)
    expected = "numbers" if numeric else "text or integers"
    raise ProfileInvalid(
        f"Column {name!r} has the wrong type.",
        {name: [f"Expected {expected}, got {kind}."]},
    )


# -- reading a received window --------------------------------------------------


def parse_start(value: Any) -> int | None:
    """Hours since the epoch of ``2026-01-31T10:00:00Z`` (None if not an hour)."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    moment = moment.astimezone(UTC)
    if moment.minute or moment.second or moment.microsecond:
        return None
    return int(moment.timestamp()) // HOUR_SECONDS


def _read_window(
    data: Any, spec: ProfileSpec, path: str, errors: FieldErrors
) -> WindowProfile | None:
    prefix = f"{path}." if path else ""
    if not isinstance(data, dict):
        errors.add(path or "window", "Must be an object.")
        return None
    known = {
        "start",
        "rows",
        "features",
        "score",
        "latency",
        "outcomes",
        "labelled",
        "invalid_labels",
        "segments",
        "kpis",
    }
    for key in data:
        if key not in known:
            errors.add(f"{prefix}{_label(key)}", "Unknown field.")
    hour = parse_start(data.get("start"))
    if hour is None:
        errors.add(
            f"{prefix}start", "Must be the start of an hour in UTC (ISO 8601 text)."
        )
    rows = _count(data.get("rows"), f"{prefix}rows", errors)
    features: dict[str, Profile] = {}
    raw_features = data.get("features", {})
    if not isinstance(raw_features, dict):
        errors.add(f"{prefix}features", "Must be an object keyed by feature name.")
        raw_features = {}
    for name, raw in raw_features.items():
        where = f"{prefix}features.{_label(name)}"
        reference = spec.features.get(name) if isinstance(name, str) else None
        if reference is None:
            errors.add(where, "Not a feature of the version's feature spec.")
            continue
        profile = read_feature(raw, reference, where, errors)
        if profile is None:
            continue
        if rows is not None and profile.total != rows:
            errors.add(
                where,
                f"Counts {profile.count} values and {profile.missing} missing: "
                f"{profile.total} in all, but the window has {rows} rows.",
            )
        features[name] = profile
    score = read_profile(data.get("score"), spec.score_bins, f"{prefix}score", errors)
    latency = read_profile(
        data.get("latency"), spec.latency_bins, f"{prefix}latency", errors
    )
    for name, profile in (("score", score), ("latency", latency)):
        if profile is not None and rows is not None and profile.total > rows:
            errors.add(f"{prefix}{name}", "Counts more values than the window's rows.")
    counts = check_outcomes(
        data.get("outcomes"), spec.task, f"{prefix}outcomes", errors
    )
    labelled = _count(data.get("labelled", 0), f"{prefix}labelled", errors)
    if counts is not None and labelled is not None and counts.get("n", 0) != labelled:
        errors.add(f"{prefix}labelled", "Must equal outcomes.n.")
    invalid = _count(data.get("invalid_labels", 0), f"{prefix}invalid_labels", errors)
    segments = check_segments(
        data.get("segments"), spec.segments, f"{prefix}segments", errors
    )
    kpis = check_kpis(data.get("kpis"), f"{prefix}kpis", errors)
    if hour is None or rows is None or labelled is None or invalid is None:
        return None
    return WindowProfile(
        hour=hour,
        rows=rows,
        features=features,
        score=score,
        latency=latency,
        outcomes=counts or {},
        labelled=labelled,
        invalid_labels=invalid,
        segments=segments or {},
        kpis=kpis or {},
    )


def _count(value: Any, path: str, errors: FieldErrors) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(path, "Must be a whole number.")
        return None
    if value < 0:
        errors.add(path, "Must not be negative.")
        return None
    if value > 2**62:
        errors.add(path, "Too large.")
        return None
    return value


def _label(name: Any) -> str:
    text = str(name)[:100]
    return text.encode("utf-8", "replace").decode("utf-8")


def _dump(profile: Profile) -> dict:
    if isinstance(profile, NumericProfile):
        return profile.to_dict(include_bins=False)
    return profile.to_dict()


def _merge_optional(left, right):
    if left is None:
        return right
    if right is None:
        return left
    return left.merge(right)


def _compare(left: Any, right: Any, path: str, rtol: float, found: list) -> None:
    if len(found) >= 20:
        return
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            where = f"{path}.{key}" if path else str(key)
            if key not in left or key not in right:
                found.append(f"{where}: only in one profile")
                continue
            _compare(left[key], right[key], where, rtol, found)
        return
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            found.append(f"{path}: lengths {len(left)} and {len(right)}")
            return
        if all(isinstance(v, int | float) for v in left + right):
            a = np.asarray(left, dtype=np.float64)
            b = np.asarray(right, dtype=np.float64)
            exact = all(isinstance(v, int) for v in left + right)
            if exact and not np.array_equal(a, b):
                found.append(f"{path}: counts differ")
            elif not exact and not np.allclose(a, b, rtol=rtol, atol=_atol(a, b, rtol)):
                found.append(f"{path}: beyond rtol={rtol}")
            return
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            _compare(a, b, f"{path}[{index}]", rtol, found)
        return
    if isinstance(left, float) or isinstance(right, float):
        if (
            left is None
            or right is None
            or not math.isclose(left, right, rel_tol=rtol, abs_tol=rtol)
        ):
            found.append(f"{path}: {left!r} and {right!r}")
        return
    if left != right:
        found.append(f"{path}: {left!r} and {right!r}")


def _atol(a: np.ndarray, b: np.ndarray, rtol: float) -> float:
    # Sums of offsets can cancel to ~0 in a cell: compare them on the scale of
    # the largest entry, not entry by entry.
    scale = max(float(np.abs(a).max(initial=0.0)), float(np.abs(b).max(initial=0.0)))
    return rtol * max(scale, 1.0)


hour_of = hour_of  # re-exported for clients that window their own timestamps
