"""Drift statistics on profiles: the numerical core behind ``monitoring.drift``.

``binning`` holds the numeric cell layout that profiles count on; ``divergences``
(PSI, Jensen-Shannon) and ``significance`` (the KS p-value, the
2xk chi-square contingency test, multiple-testing corrections) work on plain
arrays; ``numeric`` and ``categorical`` compute the statistics from two profiles.
"""

from monitoring.statistics.categorical import categorical_statistics, categorical_table
from monitoring.statistics.divergences import (
    DEFAULT_PSI_EPSILON,
    jensen_shannon_distance,
    psi,
)
from monitoring.statistics.numeric import (
    ks_from_profiles,
    numeric_histograms,
    numeric_statistics,
    reference_scale,
    wasserstein_from_profiles,
)
from monitoring.statistics.significance import (
    KS_EXACT_MAX_N,
    adjust_pvalues,
    chi2_contingency_2xk,
    ks_pvalue,
)

__all__ = [
    "DEFAULT_PSI_EPSILON",
    "KS_EXACT_MAX_N",
    "adjust_pvalues",
    "categorical_statistics",
    "categorical_table",
    "chi2_contingency_2xk",
    "jensen_shannon_distance",
    "ks_from_profiles",
    "ks_pvalue",
    "numeric_histograms",
    "numeric_statistics",
    "psi",
    "reference_scale",
    "wasserstein_from_profiles",
]
