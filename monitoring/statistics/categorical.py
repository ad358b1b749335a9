"""Categorical drift statistics from two profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from monitoring.statistics.divergences import (
    DEFAULT_PSI_EPSILON,
    jensen_shannon_distance,
    psi,
)
from monitoring.statistics.significance import chi2_contingency_2xk

if TYPE_CHECKING:  # profiles import this package; no import back at run time
    from monitoring.profiles import CategoricalProfile

# Name of the bucket holding values outside a profile's vocabulary.
OTHER_CATEGORY = "__other__"


def categorical_table(
    reference: CategoricalProfile, current: CategoricalProfile
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Align both profiles by category name: (names, reference counts, current).

    Names are the reference's categories, then those only the current profile
    has, then ``__other__``; categories empty on both sides are left out.
    """
    if (
        getattr(reference, "kind", None) != "categorical"
        or getattr(current, "kind", None) != "categorical"
    ):
        raise TypeError("categorical statistics need two categorical profiles")
    names = list(reference.categories)
    known = set(names)
    names.extend(name for name in current.categories if name not in known)
    position = {name: index for index, name in enumerate(names)}
    ref_counts = np.zeros(len(names) + 1, dtype=np.int64)
    cur_counts = np.zeros(len(names) + 1, dtype=np.int64)
    ref_counts[: len(reference.categories)] = reference.counts
    cur_counts[[position[name] for name in current.categories]] = current.counts
    ref_counts[-1], cur_counts[-1] = reference.other, current.other
    names.append(OTHER_CATEGORY)
    seen = (ref_counts + cur_counts) > 0
    return (
        [name for name, keep in zip(names, seen, strict=True) if keep],
        ref_counts[seen],
        cur_counts[seen],
    )


def categorical_statistics(
    reference: CategoricalProfile,
    current: CategoricalProfile,
    *,
    psi_epsilon: float = DEFAULT_PSI_EPSILON,
) -> dict[str, float]:
    """Chi-square contingency test, Jensen-Shannon distance and PSI."""
    _names, ref_counts, cur_counts = categorical_table(reference, current)
    if ref_counts.sum() == 0 or cur_counts.sum() == 0:
        raise ValueError("both profiles need at least one non-missing value")
    statistic, pvalue, dof = chi2_contingency_2xk(ref_counts, cur_counts)
    return {
        "chi2": statistic,
        "chi2_dof": float(dof),
        "chi2_pvalue": pvalue,
        "jensenshannon": jensen_shannon_distance(ref_counts, cur_counts),
        "psi": psi(ref_counts, cur_counts, epsilon=psi_epsilon),
    }
