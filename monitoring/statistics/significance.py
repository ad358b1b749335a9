"""p-values: two-sample KS from a statistic, 2xk chi-square, multiple testing."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special
from scipy.stats import kstwo

# Up to this effective sample size the KS p-value is scipy's own asymptotic one,
# ``kstwo.sf(D, round(n*m/(n+m)))`` (what ``ks_2samp(method="asymp")`` returns).
# Above it that call takes from milliseconds to seconds, so the limiting
# Kolmogorov distribution with Stephens' small-sample correction stands in: within
# 4 % relative of kstwo.sf for every p >= 1e-6 (tested), far closer than the
# binning error of D itself moves it.
KS_EXACT_MAX_N = 1000


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Two-sided two-sample KS p-value of ``statistic`` for sample sizes n and m."""
    if n < 1 or m < 1:
        raise ValueError("both samples need at least one value")
    if statistic <= 0:
        return 1.0
    if statistic >= 1:
        statistic = 1.0
    effective = n * m / (n + m)
    rounded = max(round(effective), 1)
    if rounded <= KS_EXACT_MAX_N:
        value = float(kstwo.sf(statistic, rounded))
    else:
        root = math.sqrt(effective)
        value = float(special.kolmogorov((root + 0.12 + 0.11 / root) * statistic))
    return min(max(value, 0.0), 1.0)


def chi2_contingency_2xk(
    reference_counts: Sequence[float] | np.ndarray,
    current_counts: Sequence[float] | np.ndarray,
    *,
    correction: bool = True,
) -> tuple[float, float, int]:
    """Chi-square test of homogeneity on the 2xk table [reference; current].

    Both rows are samples (``scipy.stats.chi2_contingency``), not the reference as
    known proportions. Categories empty on both sides are dropped; one seen on
    one side only is kept. Yates' correction applies when dof == 1, as in SciPy.
    Returns (statistic, p-value, degrees of freedom).
    """
    reference = np.asarray(reference_counts, dtype=np.float64)
    current = np.asarray(current_counts, dtype=np.float64)
    if reference.shape != current.shape or reference.ndim != 1:
        raise ValueError("count vectors must be 1-D and of the same length")
    if (reference < 0).any() or (current < 0).any():
        raise ValueError("counts must not be negative")
    seen = (reference + current) > 0
    reference, current = reference[seen], current[seen]
    n_reference, n_current = reference.sum(), current.sum()
    if n_reference <= 0 or n_current <= 0:
        raise ValueError("both samples need at least one value")
    dof = reference.size - 1
    if dof < 1:
        return 0.0, 1.0, 0
    total = n_reference + n_current
    columns = reference + current
    observed = np.stack((reference, current))
    expected = np.stack(
        (columns * (n_reference / total), columns * (n_current / total))
    )
    if correction and dof == 1:
        gap = expected - observed
        observed = observed + np.minimum(0.5, np.abs(gap)) * np.sign(gap)
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    return statistic, float(special.chdtrc(dof, statistic)), int(dof)


def adjust_pvalues(pvalues: Sequence[float], method: str = "holm") -> list[float]:
    """Adjust p-values for multiple testing: holm, bonferroni, bh or none.

    Holm (step-down Bonferroni) controls the family-wise error rate like
    Bonferroni but rejects at least as much; Benjamini-Hochberg controls the
    false discovery rate (adjusted values as ``scipy.stats.false_discovery_control``).
    """
    values = np.asarray(pvalues, dtype=np.float64)
    count = values.size
    if count == 0:
        return []
    if np.isnan(values).any() or (values < 0).any() or (values > 1).any():
        raise ValueError("p-values must lie in [0, 1]")
    if method == "none":
        adjusted = values
    elif method == "bonferroni":
        adjusted = np.minimum(values * count, 1.0)
    elif method == "holm":
        order = np.argsort(values, kind="stable")
        steps = values[order] * (count - np.arange(count))
        adjusted = np.empty(count)
        adjusted[order] = np.minimum(np.maximum.accumulate(steps), 1.0)
    elif method == "bh":
        order = np.argsort(values, kind="stable")
        steps = values[order] * count / np.arange(1, count + 1)
        adjusted = np.empty(count)
        adjusted[order] = np.minimum(np.minimum.accumulate(steps[::-1])[::-1], 1.0)
    else:
        raise ValueError(f"unknown correction {method!r}")
    return [float(value) for value in adjusted]
