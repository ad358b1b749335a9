"""Profiles of a slice of a batch on its window's reference bins or vocabulary,
and the numbers read off a profile (quantiles, the share above a threshold)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gatehouse_client.profile.binning import NumericBins
from gatehouse_client.profile.categorical import CategoricalProfile
from gatehouse_client.profile.numeric import NumericProfile

Profile = NumericProfile | CategoricalProfile

# Latency: fixed logarithmic bins, 0.01 ms to 10 minutes (a percentile read off
# them is within 2.1 % of the recorded value).
LATENCY_BINS = NumericBins(
    edges=np.geomspace(0.01, 600_000.0, 401), tail_scale=0.001, tail_bins=8
)
# Scores, when the reference had none: 100 equal bins on [0, 1].
DEFAULT_SCORE_BINS = NumericBins(
    edges=np.linspace(0.0, 1.0, 101), tail_scale=0.01, tail_bins=20
)


def value_counts(array: pa.Array) -> tuple[dict[str, int], int]:
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


def feature_profile(array: pa.Array, reference: Profile) -> Profile:
    if isinstance(reference, NumericProfile):
        return NumericProfile.from_values(
            array.to_numpy(zero_copy_only=False), reference.bins
        )
    counted, missing = value_counts(array)
    return reference.profile_counts(counted, missing=missing)


def empty_like(reference: Profile) -> Profile:
    if isinstance(reference, NumericProfile):
        return NumericProfile.empty(reference.bins)
    return reference.empty_like()


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
