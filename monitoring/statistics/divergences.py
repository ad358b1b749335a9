"""Population stability index and Jensen-Shannon distance of two histograms."""

from __future__ import annotations

import numpy as np

# Empty bins would make PSI infinite; proportions are floored at this value
# (0.01 %), the usual convention. A bin empty on both sides contributes 0.
DEFAULT_PSI_EPSILON = 1e-4


def _proportions(counts: np.ndarray | list[float]) -> np.ndarray:
    array = np.asarray(counts, dtype=np.float64)
    if array.ndim != 1 or (array < 0).any():
        raise ValueError("counts must be a 1-D array of non-negative numbers")
    total = array.sum()
    if total <= 0:
        raise ValueError("counts must not all be zero")
    return array / total


def psi(
    reference_counts: np.ndarray | list[float],
    current_counts: np.ndarray | list[float],
    *,
    epsilon: float = DEFAULT_PSI_EPSILON,
) -> float:
    """PSI = sum((q - p) * ln(q / p)) with p, q floored at ``epsilon``."""
    p = _proportions(reference_counts)
    q = _proportions(current_counts)
    if p.shape != q.shape:
        raise ValueError("histograms must have the same number of bins")
    p = np.maximum(p, epsilon)
    q = np.maximum(q, epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon_distance(
    reference_counts: np.ndarray | list[float],
    current_counts: np.ndarray | list[float],
) -> float:
    """Jensen-Shannon distance in base 2 (0 = identical, 1 = disjoint supports).

    The square root of the JS divergence, as ``scipy.spatial.distance.jensenshannon
    (p, q, base=2)``.
    """
    p = _proportions(reference_counts)
    q = _proportions(current_counts)
    if p.shape != q.shape:
        raise ValueError("histograms must have the same number of bins")
    m = (p + q) / 2
    divergence = 0.0
    for part in (p, q):
        mask = part > 0
        divergence += 0.5 * float(np.sum(part[mask] * np.log2(part[mask] / m[mask])))
    return float(np.sqrt(max(divergence, 0.0)))
