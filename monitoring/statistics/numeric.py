"""Numeric drift statistics from two profiles on the same ``NumericBins``.

The cells of a profile cover the whole real line (tails included) and every cell
keeps its count and the sum of its values' offsets, so:

* the KS statistic is read off the two cumulative histograms at every cell
  boundary; the true sup can exceed it only inside a cell, by at most
  ``min(p_ref, p_cur)`` of that cell (reported as ``ks_error_bound``);
* the Wasserstein-1 distance integrates ``|F_ref - F_cur|`` cell by cell; the
  integral of ``F_ref - F_cur`` over a cell is exact given the cell sums, so the
  result is exact in every cell where the two CDFs do not cross;
* Jensen-Shannon and PSI use the reference bins with one underflow and one
  overflow bin (``numeric_histograms``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from gatehouse_client.profile.binning import BinsMismatchError

from monitoring.statistics.divergences import (
    DEFAULT_PSI_EPSILON,
    jensen_shannon_distance,
    psi,
)
from monitoring.statistics.significance import ks_pvalue

if TYPE_CHECKING:  # profiles import this package; no import back at run time
    from gatehouse_client.profile import NumericProfile

# A cell whose values all sit on its upper bound (a discrete value that is also
# an edge) adds no KS error; offsets are float sums, hence the tolerance.
_AT_UPPER_TOLERANCE = 1e-9


def _check_pair(reference: NumericProfile, current: NumericProfile) -> None:
    if (
        getattr(reference, "kind", None) != "numeric"
        or getattr(current, "kind", None) != "numeric"
    ):
        raise TypeError("numeric statistics need two numeric profiles")
    if reference.bins != current.bins:
        raise BinsMismatchError("reference and current profiles use different bins")
    if reference.count == 0 or current.count == 0:
        raise ValueError("both profiles need at least one non-missing value")


def numeric_histograms(
    reference: NumericProfile, current: NumericProfile
) -> tuple[np.ndarray, np.ndarray]:
    """Counts on the reference bins plus an underflow and an overflow bin.

    The point cell at the reference minimum joins the first bin, so the result
    has ``n_bins + 2`` entries: [below min, bin 1, ..., bin n, above max].
    """
    if reference.bins != current.bins:
        raise BinsMismatchError("reference and current profiles use different bins")
    bins = reference.bins
    n_low, n_range = bins.n_low_cells, bins.n_range_cells

    def coarse(counts: np.ndarray) -> np.ndarray:
        in_range = counts[n_low : n_low + n_range].copy()
        if n_range >= 2:
            in_range[1] += in_range[0]
            in_range = in_range[1:]
        return np.concatenate(
            ([counts[:n_low].sum()], in_range, [counts[n_low + n_range :].sum()])
        )

    return coarse(reference.counts), coarse(current.counts)


def ks_from_profiles(
    reference: NumericProfile, current: NumericProfile
) -> tuple[float, float]:
    """KS statistic at the cell boundaries and the bound on its error.

    The statistic of the raw samples lies in ``[statistic, statistic + bound]``.
    """
    _check_pair(reference, current)
    bins = reference.bins
    ref_share = reference.counts / reference.count
    cur_share = current.counts / current.count
    gap = (
        np.cumsum(reference.counts) / reference.count
        - np.cumsum(current.counts) / current.count
    )
    statistic = float(np.abs(gap).max())
    inner = np.minimum(ref_share, cur_share)
    n_low, n_range = bins.n_low_cells, bins.n_range_cells
    inner[n_low] = 0.0  # the point cell at the reference minimum has no inside
    interior = slice(n_low + 1, n_low + n_range)
    width = bins.cell_upper[interior] - bins.cell_lower[interior]
    both_at_upper = np.ones(width.size, dtype=bool)
    for profile in (reference, current):
        full = profile.counts[interior] * width
        slack = full - profile.offsets[interior]  # sum of (upper - value)
        both_at_upper &= slack <= _AT_UPPER_TOLERANCE * full
    inner[interior][both_at_upper] = 0.0
    return statistic, float(inner.max())


def wasserstein_from_profiles(
    reference: NumericProfile, current: NumericProfile
) -> float:
    """Wasserstein-1 distance between the two profiled distributions.

    Per cell [a, b]: the integral of d = F_ref - F_cur is exact from the cell
    sums. Where d keeps its sign over the cell, |integral| is the exact
    contribution; where it changes sign between a and b, d is modelled as two
    linear pieces meeting at zero with the exact integral. The open outer cells
    end at the smaller minimum and the larger maximum of the two profiles.
    """
    _check_pair(reference, current)
    bins = reference.bins
    low = min(reference.minimum, current.minimum)
    high = max(reference.maximum, current.maximum)
    lower = np.clip(bins.cell_lower, low, high)
    upper = np.clip(bins.cell_upper, low, high)
    width = upper - lower
    shift = bins.anchors - lower
    d_upper = (
        np.cumsum(reference.counts) / reference.count
        - np.cumsum(current.counts) / current.count
    )
    d_lower = np.concatenate(([0.0], d_upper[:-1]))
    ref_sums = (reference.offsets + reference.counts * shift) / reference.count
    cur_sums = (current.offsets + current.counts * shift) / current.count
    integral = width * d_upper - (ref_sums - cur_sums)
    contribution = np.abs(integral)
    crossing = (d_lower * d_upper < 0) & (width > 0)
    if crossing.any():
        a, b = d_lower[crossing], d_upper[crossing]
        w, area = width[crossing], integral[crossing]
        zero_at = np.clip((2 * area - w * b) / (a - b), 0.0, w)
        estimate = (zero_at * np.abs(a) + (w - zero_at) * np.abs(b)) / 2
        contribution[crossing] = np.maximum(estimate, np.abs(area))
    return float(contribution.sum())


def reference_scale(reference: NumericProfile) -> float:
    """The reference standard deviation (ddof=0) that normalises Wasserstein.

    A constant reference has none; a thousandth of its magnitude (at least
    0.001) stands in, so any movement of a constant feature reads as large.
    """
    std = reference.std or 0.0
    magnitude = max(1.0, abs(reference.mean))
    return std if std > 1e-12 * magnitude else 1e-3 * magnitude


def numeric_statistics(
    reference: NumericProfile,
    current: NumericProfile,
    *,
    psi_epsilon: float = DEFAULT_PSI_EPSILON,
) -> dict[str, float]:
    """Every numeric drift statistic, keyed by name (all finite floats)."""
    _check_pair(reference, current)
    distance = wasserstein_from_profiles(reference, current)
    scale = reference_scale(reference)
    ks, ks_bound = ks_from_profiles(reference, current)
    ref_hist, cur_hist = numeric_histograms(reference, current)
    outside = current.below_range + current.above_range
    return {
        "wasserstein": distance / scale,
        "wasserstein_distance": distance,
        "reference_std": scale,
        "ks": ks,
        "ks_error_bound": ks_bound,
        "ks_pvalue": ks_pvalue(ks, reference.count, current.count),
        "jensenshannon": jensen_shannon_distance(ref_hist, cur_hist),
        "psi": psi(ref_hist, cur_hist, epsilon=psi_epsilon),
        "mean_difference": current.mean - reference.mean,
        "out_of_range_rate": outside / current.count,
    }
