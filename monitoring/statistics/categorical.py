"""Categorical drift statistics from two profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from gatehouse_client.profile.categorical import OTHER_CATEGORY

from monitoring.statistics.divergences import (
    DEFAULT_PSI_EPSILON,
    jensen_shannon_distance,
    psi,
)
from monitoring.statistics.significance import chi2_contingency_2xk

if TYPE_CHECKING:  # profiles import this package; no import back at run time
    from gatehouse_client.profile import CategoricalProfile


def tail_label(bucket: int) -> str:
    """The column name of one tail bucket in ``categorical_table``."""
    return f"{OTHER_CATEGORY}[{bucket}]"


def _tail_columns(
    reference: CategoricalProfile, current: CategoricalProfile
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The tails side by side: one column per bucket when both profiles keep
    the same sketch, else one ``__other__`` column (a format-1 profile)."""
    if reference.tail_buckets and reference.tail_buckets == current.tail_buckets:
        names = [tail_label(index) for index in range(reference.tail_buckets)]
        return names, reference.tail, current.tail
    return (
        [OTHER_CATEGORY],
        np.asarray([reference.other], dtype=np.int64),
        np.asarray([current.other], dtype=np.int64),
    )


def categorical_table(
    reference: CategoricalProfile, current: CategoricalProfile
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Align both profiles by category name: (names, reference counts, current).

    Names are the reference's categories, then those only the current profile
    has, then the tail: one column per bucket of the tail sketch
    (``__other__[k]``), or one ``__other__`` column for profiles without one.
    Columns empty on both sides are left out.
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
    tail_names, ref_tail, cur_tail = _tail_columns(reference, current)
    ref_counts = np.zeros(len(names), dtype=np.int64)
    cur_counts = np.zeros(len(names), dtype=np.int64)
    ref_counts[: len(reference.categories)] = reference.counts
    cur_counts[[position[name] for name in current.categories]] = current.counts
    names.extend(tail_names)
    ref_counts = np.concatenate((ref_counts, ref_tail))
    cur_counts = np.concatenate((cur_counts, cur_tail))
    seen = (ref_counts + cur_counts) > 0
    return (
        [name for name, keep in zip(names, seen, strict=True) if keep],
        ref_counts[seen],
        cur_counts[seen],
    )


def unseen_share(
    reference_counts: np.ndarray, current_counts: np.ndarray
) -> float | None:
    """Share of the current values in columns the reference never had.

    With a tail sketch this is exact when the reference's vocabulary holds all
    of its categories, and a lower bound otherwise (a new category that shares a
    bucket with a reference one is not told apart from it).
    """
    total = float(current_counts.sum())
    if total <= 0:
        return None
    return float(current_counts[reference_counts == 0].sum()) / total


def categorical_statistics(
    reference: CategoricalProfile,
    current: CategoricalProfile,
    *,
    psi_epsilon: float = DEFAULT_PSI_EPSILON,
) -> dict[str, float]:
    """Chi-square contingency test, Jensen-Shannon distance, PSI and the share
    of current values in categories the reference never had."""
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
        "unseen_share": unseen_share(ref_counts, cur_counts) or 0.0,
    }
