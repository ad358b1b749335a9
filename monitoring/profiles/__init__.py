"""Mergeable window profiles: the summaries that drift statistics are computed from.

A profile summarises one feature over one window (an hour of predictions, a
reference snapshot, ...). Profiles of the same feature merge associatively and
commutatively, so hourly profiles can be rolled up into days and a batch can be
applied to a window in any order. Everything is plain NumPy and JSON: no Django.

* ``NumericBins`` (defined in ``monitoring.statistics.binning``, re-exported
  here) — bin edges fixed once from the reference sample: ``n_bins``
  reference-quantile bins over ``[reference min, reference max]`` plus
  ``tail_bins`` geometrically growing bins on each side, so values outside the
  reference range keep their position instead of piling up in an open edge bin.
* ``NumericProfile`` — per-cell counts and per-cell sums of offsets on those
  bins, count, missing count, min, max, mean and M2 (Chan's parallel update).
* ``CategoricalProfile`` — counts per category of a vocabulary fixed from the
  reference (at most ``max_categories``), a tail sketch (the other categories
  hashed into ``tail_buckets`` buckets) and a missing count.

See docs/drift.md for the choice of bins and the error bounds they give. One
module per kind (``numeric``, ``categorical``), and ``format`` for what both
store.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from monitoring.profiles.categorical import (
    DEFAULT_MAX_CATEGORIES,
    DEFAULT_TAIL_BUCKETS,
    CategoricalProfile,
    top_categories,
)
from monitoring.profiles.numeric import NumericProfile
from monitoring.statistics.binning import BinsMismatchError, NumericBins
from monitoring.statistics.categorical import OTHER_CATEGORY

__all__ = [
    "DEFAULT_MAX_CATEGORIES",
    "DEFAULT_TAIL_BUCKETS",
    "OTHER_CATEGORY",
    "BinsMismatchError",
    "CategoricalProfile",
    "NumericBins",
    "NumericProfile",
    "Profile",
    "merge_profiles",
    "profile_from_dict",
    "top_categories",
]

Profile = NumericProfile | CategoricalProfile


def profile_from_dict(
    data: dict[str, Any], *, bins: NumericBins | None = None
) -> NumericProfile | CategoricalProfile:
    """Rebuild a profile of either kind from ``to_dict`` output."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == NumericProfile.kind:
        return NumericProfile.from_dict(data, bins=bins)
    if kind == CategoricalProfile.kind:
        return CategoricalProfile.from_dict(data)
    raise ValueError(f"unknown profile kind: {kind!r}")


def merge_profiles(profiles: Iterable[Profile]) -> Profile:
    """Merge a non-empty sequence of profiles of one feature."""
    iterator = iter(profiles)
    try:
        result = next(iterator)
    except StopIteration:
        raise ValueError("merge_profiles needs at least one profile") from None
    for profile in iterator:
        result = result.merge(profile)
    return result
