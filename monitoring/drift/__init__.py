"""Drift, prediction drift and training-serving parity from window profiles.

Every statistic here is computed from two profiles (``gatehouse_client.profile``), never
from raw rows, so the cost of an evaluation depends on the number of features and
bins, not on how many records the windows hold. The statistics themselves live in
``monitoring.statistics``; this package decides which one to use per feature, with
which thresholds, corrects p-values for the number of features and turns the
numbers into verdicts. See docs/drift.md for defaults and tolerances.

* ``config`` — ``DriftConfig``: methods, thresholds, overrides, correction;
* ``evaluation`` — verdicts on the features of a window (``evaluate_window``);
* ``parity`` — training-serving parity (``evaluate_feature_parity``).
"""

from monitoring.drift.config import (
    CORRECTIONS,
    DEFAULT_THRESHOLDS,
    EFFECT_SIZE_METHODS,
    METHODS_BY_KIND,
    PVALUE_METHODS,
    DriftConfig,
    FeatureDriftConfig,
)
from monitoring.drift.evaluation import (
    FeatureDriftResult,
    evaluate_prediction_drift,
    evaluate_window,
)
from monitoring.drift.parity import (
    FeatureParityResult,
    ParityConfig,
    evaluate_feature_parity,
)

__all__ = [
    "CORRECTIONS",
    "DEFAULT_THRESHOLDS",
    "EFFECT_SIZE_METHODS",
    "METHODS_BY_KIND",
    "PVALUE_METHODS",
    "DriftConfig",
    "FeatureDriftConfig",
    "FeatureDriftResult",
    "FeatureParityResult",
    "ParityConfig",
    "evaluate_feature_parity",
    "evaluate_prediction_drift",
    "evaluate_window",
]
