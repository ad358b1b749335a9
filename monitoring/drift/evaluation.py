"""Drift, prediction drift and training-serving parity from window profiles.

Every statistic here is computed from two profiles (``monitoring.profiles``), never
from raw rows, so the cost of an evaluation depends on the number of features and
bins, not on how many records the windows hold. The statistics themselves live in
``monitoring.statistics``; this module decides which one to use per feature, with
which thresholds, corrects p-values for the number of features and turns the
numbers into verdicts. See docs/drift.md for defaults and tolerances.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from monitoring.profiles import CategoricalProfile, NumericProfile, Profile
from monitoring.statistics import (
    DEFAULT_PSI_EPSILON,
    adjust_pvalues,
    categorical_statistics,
    numeric_statistics,
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

NUMERIC = "numeric"
CATEGORICAL = "categorical"

EFFECT_SIZE_METHODS = frozenset({"wasserstein", "jensenshannon", "psi"})
PVALUE_METHODS = frozenset({"ks", "chi2"})
METHODS_BY_KIND = {
    NUMERIC: frozenset({"wasserstein", "jensenshannon", "psi", "ks"}),
    CATEGORICAL: frozenset({"jensenshannon", "psi", "chi2"}),
}
CORRECTIONS = frozenset({"holm", "bonferroni", "bh", "none"})

# (warning, critical). Effect sizes: drift at or above the value. p-value tests:
# drift when the corrected p-value is below it. Rationale in docs/drift.md.
DEFAULT_THRESHOLDS: dict[str, tuple[float, float]] = {
    "wasserstein": (0.1, 0.2),
    "jensenshannon": (0.1, 0.2),
    "psi": (0.2, 0.5),
    "ks": (0.05, 0.001),
    "chi2": (0.05, 0.001),
}

STATUS_OK = "ok"
STATUS_INSUFFICIENT = "insufficient_data"
STATUS_NO_REFERENCE = "no_reference"

SEVERITY_NONE = "none"
SEVERITY_WARNING = "warning"
SEVERITY_CRITICAL = "critical"
_SEVERITY_RANK = {SEVERITY_NONE: 0, SEVERITY_WARNING: 1, SEVERITY_CRITICAL: 2}


def _check_thresholds(method: str, warning: float, critical: float) -> None:
    for name, value in (("warning", warning), ("critical", critical)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{method} {name} threshold must be a number")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{method} {name} threshold must be finite and >= 0")
    if method in PVALUE_METHODS:
        if not 0 < critical <= warning < 1:
            raise ValueError(f"{method} thresholds need 0 < critical <= warning < 1")
    elif critical < warning:
        raise ValueError(f"{method} critical threshold must be >= warning")


def _check_method(method: str) -> None:
    if method not in EFFECT_SIZE_METHODS | PVALUE_METHODS:
        known = ", ".join(sorted(EFFECT_SIZE_METHODS | PVALUE_METHODS))
        raise ValueError(f"unknown drift method {method!r} (known: {known})")


@dataclass(frozen=True)
class FeatureDriftConfig:
    """Per-feature overrides; ``None`` keeps the window-wide default."""

    method: str | None = None
    warning: float | None = None
    critical: float | None = None
    min_count: int | None = None

    def __post_init__(self) -> None:
        if self.method is not None:
            _check_method(self.method)
        if self.min_count is not None and (
            isinstance(self.min_count, bool)
            or not isinstance(self.min_count, int)
            or self.min_count < 1
        ):
            raise ValueError("min_count must be a positive integer")


@dataclass(frozen=True)
class DriftConfig:
    """How one model's windows are judged. JSON round trip: ``to_dict``/``from_dict``.

    * ``numeric_method`` / ``categorical_method``: the statistic that decides.
    * ``thresholds``: (warning, critical) per method, see ``DEFAULT_THRESHOLDS``.
    * ``require_significance``: an effect-size verdict also needs the feature's
      corrected p-value (KS or chi-square) below ``alpha``, so a small window's
      sampling noise does not raise alerts; at production volumes it is always
      met and the effect size decides.
    * ``correction``: ``holm`` (default, family-wise), ``bonferroni``, ``bh``
      (Benjamini-Hochberg false discovery rate) or ``none``, over the features of
      one evaluation.
    * ``min_count``: windows with fewer non-missing values are not judged.
    """

    numeric_method: str = "wasserstein"
    categorical_method: str = "jensenshannon"
    thresholds: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_THRESHOLDS)
    )
    features: Mapping[str, FeatureDriftConfig] = field(default_factory=dict)
    correction: str = "holm"
    alpha: float = 0.05
    require_significance: bool = True
    min_count: int = 30
    psi_epsilon: float = DEFAULT_PSI_EPSILON

    def __post_init__(self) -> None:
        for kind, method in (
            (NUMERIC, self.numeric_method),
            (CATEGORICAL, self.categorical_method),
        ):
            _check_method(method)
            if method not in METHODS_BY_KIND[kind]:
                raise ValueError(f"{method!r} does not apply to {kind} features")
        thresholds = dict(DEFAULT_THRESHOLDS)
        for method, pair in dict(self.thresholds).items():
            _check_method(method)
            warning, critical = pair
            _check_thresholds(method, warning, critical)
            thresholds[method] = (float(warning), float(critical))
        object.__setattr__(self, "thresholds", thresholds)
        features = {}
        for name, override in dict(self.features).items():
            if isinstance(override, Mapping):
                override = FeatureDriftConfig(**override)
            if not isinstance(override, FeatureDriftConfig):
                raise ValueError(f"feature {name!r}: invalid configuration")
            # Without a method the override applies to the kind's default method.
            methods = (
                [override.method]
                if override.method
                else [self.numeric_method, self.categorical_method]
            )
            for method in methods:
                warning, critical = thresholds[method]
                _check_thresholds(
                    method,
                    override.warning if override.warning is not None else warning,
                    override.critical if override.critical is not None else critical,
                )
            features[str(name)] = override
        object.__setattr__(self, "features", features)
        if self.correction not in CORRECTIONS:
            raise ValueError(f"correction must be one of {sorted(CORRECTIONS)}")
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be between 0 and 1")
        if (
            isinstance(self.min_count, bool)
            or not isinstance(self.min_count, int)
            or self.min_count < 1
        ):
            raise ValueError("min_count must be a positive integer")
        if not isinstance(self.require_significance, bool):
            raise ValueError("require_significance must be true or false")
        if not 0 < self.psi_epsilon < 1:
            raise ValueError("psi_epsilon must be between 0 and 1")

    def method_for(self, feature: str, kind: str) -> str:
        override = self.features.get(feature)
        default = self.numeric_method if kind == NUMERIC else self.categorical_method
        method = override.method if override and override.method else default
        if method not in METHODS_BY_KIND[kind]:
            raise ValueError(
                f"feature {feature!r}: {method!r} does not apply to {kind} data"
            )
        return method

    def thresholds_for(self, feature: str, method: str) -> tuple[float, float]:
        warning, critical = self.thresholds[method]
        override = self.features.get(feature)
        if override is not None:
            warning = override.warning if override.warning is not None else warning
            critical = override.critical if override.critical is not None else critical
        return float(warning), float(critical)

    def min_count_for(self, feature: str) -> int:
        override = self.features.get(feature)
        return override.min_count if override and override.min_count else self.min_count

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric_method": self.numeric_method,
            "categorical_method": self.categorical_method,
            "thresholds": {key: list(value) for key, value in self.thresholds.items()},
            "features": {
                name: {
                    key: value
                    for key, value in asdict(override).items()
                    if value is not None
                }
                for name, override in self.features.items()
            },
            "correction": self.correction,
            "alpha": self.alpha,
            "require_significance": self.require_significance,
            "min_count": self.min_count,
            "psi_epsilon": self.psi_epsilon,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftConfig:
        """Validate and build; unknown keys and bad values raise ValueError."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown drift configuration keys: {sorted(unknown)}")
        values = dict(data)
        try:
            if "thresholds" in values:
                values["thresholds"] = {
                    method: tuple(pair)
                    for method, pair in dict(values["thresholds"]).items()
                }
                if any(len(pair) != 2 for pair in values["thresholds"].values()):
                    raise ValueError("thresholds are [warning, critical] pairs")
            if "features" in values:
                values["features"] = {
                    name: FeatureDriftConfig(**dict(override))
                    for name, override in dict(values["features"]).items()
                }
            return cls(**values)
        except TypeError as error:
            raise ValueError(f"invalid drift configuration: {error}") from error


@dataclass(frozen=True)
class FeatureDriftResult:
    """Verdict on one feature for one window.

    ``statistics`` holds every statistic computed for the feature's kind (see
    ``monitoring.statistics``); ``p_value`` is the KS (numeric) or chi-square
    (categorical) p-value and ``corrected_p_value`` the same after the
    multiple-testing correction over the features evaluated together.
    """

    feature: str
    kind: str
    method: str
    statistics: dict[str, float]
    p_value: float | None
    corrected_p_value: float | None
    drifted: bool
    severity: str
    status: str
    reference_count: int
    current_count: int
    warning_threshold: float
    critical_threshold: float

    @property
    def score(self) -> float | None:
        """The number the verdict was taken on (statistic or corrected p-value)."""
        if self.method in PVALUE_METHODS:
            return self.corrected_p_value
        return self.statistics.get(self.method)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureDriftResult:
        return cls(**dict(data))


def _kind_of(profile: Profile) -> str:
    if isinstance(profile, NumericProfile):
        return NUMERIC
    if isinstance(profile, CategoricalProfile):
        return CATEGORICAL
    raise TypeError(f"not a profile: {type(profile).__name__}")


@dataclass
class _Pending:
    feature: str
    kind: str
    method: str
    statistics: dict[str, float]
    p_value: float | None
    status: str
    reference_count: int
    current_count: int
    corrected_p_value: float | None = None


def _measure(
    feature: str,
    reference: Profile | None,
    current: Profile | None,
    config: DriftConfig,
) -> _Pending:
    base = reference if reference is not None else current
    kind = _kind_of(base)
    if reference is not None and current is not None and _kind_of(current) != kind:
        raise ValueError(f"feature {feature!r}: reference is {kind}, current is not")
    method = config.method_for(feature, kind)
    reference_count = reference.count if reference is not None else 0
    current_count = current.count if current is not None else 0
    pending = _Pending(
        feature=feature,
        kind=kind,
        method=method,
        statistics={},
        p_value=None,
        status=STATUS_OK,
        reference_count=reference_count,
        current_count=current_count,
    )
    if reference_count == 0:
        pending.status = STATUS_NO_REFERENCE
    elif current_count < config.min_count_for(feature):
        pending.status = STATUS_INSUFFICIENT
    else:
        if kind == NUMERIC:
            stats = numeric_statistics(
                reference, current, psi_epsilon=config.psi_epsilon
            )
            pending.p_value = stats["ks_pvalue"]
        else:
            stats = categorical_statistics(
                reference, current, psi_epsilon=config.psi_epsilon
            )
            pending.p_value = stats["chi2_pvalue"]
        pending.statistics = stats
    return pending


def _verdict(pending: _Pending, config: DriftConfig) -> FeatureDriftResult:
    warning, critical = config.thresholds_for(pending.feature, pending.method)
    drifted = False
    severity = SEVERITY_NONE
    if pending.status == STATUS_OK:
        corrected = pending.corrected_p_value
        if pending.method in PVALUE_METHODS:
            if corrected is not None and corrected < warning:
                drifted = True
                severity = (
                    SEVERITY_CRITICAL if corrected < critical else SEVERITY_WARNING
                )
        else:
            value = pending.statistics[pending.method]
            significant = not config.require_significance or (
                corrected is not None and corrected < config.alpha
            )
            if value >= warning and significant:
                drifted = True
                severity = SEVERITY_CRITICAL if value >= critical else SEVERITY_WARNING
    return FeatureDriftResult(
        feature=pending.feature,
        kind=pending.kind,
        method=pending.method,
        statistics=pending.statistics,
        p_value=pending.p_value,
        corrected_p_value=pending.corrected_p_value,
        drifted=drifted,
        severity=severity,
        status=pending.status,
        reference_count=pending.reference_count,
        current_count=pending.current_count,
        warning_threshold=warning,
        critical_threshold=critical,
    )


def _correct(pendings: list[_Pending], config: DriftConfig) -> None:
    tested = [pending for pending in pendings if pending.p_value is not None]
    adjusted = adjust_pvalues(
        [pending.p_value for pending in tested], config.correction
    )
    for pending, value in zip(tested, adjusted, strict=True):
        pending.corrected_p_value = value


def evaluate_window(
    reference: Mapping[str, Profile],
    current: Mapping[str, Profile],
    config: DriftConfig | None = None,
) -> list[FeatureDriftResult]:
    """Judge every feature of one window against its reference profile.

    One result per feature of ``reference`` (in its order) followed by features
    only ``current`` has (status ``no_reference``). A feature missing from
    ``current`` is judged as an empty window (status ``insufficient_data``).
    p-values are corrected over the features evaluated here.
    """
    config = config or DriftConfig()
    pendings = [
        _measure(name, profile, current.get(name), config)
        for name, profile in reference.items()
    ]
    pendings.extend(
        _measure(name, None, profile, config)
        for name, profile in current.items()
        if name not in reference
    )
    _correct(pendings, config)
    return [_verdict(pending, config) for pending in pendings]


def evaluate_prediction_drift(
    reference: Profile,
    current: Profile,
    config: DriftConfig | None = None,
    *,
    name: str = "prediction",
) -> FeatureDriftResult:
    """Drift of the score (or predicted class) distribution: one-feature window."""
    return evaluate_window({name: reference}, {name: current}, config)[0]


@dataclass(frozen=True)
class ParityConfig:
    """Tolerances of the training-serving parity check, as (warning, critical).

    ``missing_rate``: absolute difference of missing rates. ``range_violation``:
    share of serving values outside the training range (numeric) or in categories
    the training data never had (categorical).
    """

    drift: DriftConfig = field(default_factory=DriftConfig)
    missing_rate: tuple[float, float] = (0.01, 0.05)
    range_violation: tuple[float, float] = (0.01, 0.05)

    def __post_init__(self) -> None:
        for name in ("missing_rate", "range_violation"):
            warning, critical = getattr(self, name)
            if not 0 <= warning <= critical <= 1:
                raise ValueError(f"{name} needs 0 <= warning <= critical <= 1")


@dataclass(frozen=True)
class FeatureParityResult:
    """Training-serving skew of one feature: distribution and data-quality gaps."""

    feature: str
    kind: str
    drift: FeatureDriftResult
    training_missing_rate: float | None
    serving_missing_rate: float | None
    missing_rate_difference: float | None
    range_violation_rate: float | None
    in_parity: bool
    severity: str
    issues: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["issues"] = list(self.issues)
        return data


def _range_violation_rate(training: Profile, serving: Profile) -> float | None:
    if serving.count == 0:
        return None
    if isinstance(serving, NumericProfile):
        return (serving.below_range + serving.above_range) / serving.count
    training_counts = dict(
        zip(training.categories, training.counts.tolist(), strict=True)
    )
    unseen = sum(
        count
        for name, count in zip(serving.categories, serving.counts.tolist(), strict=True)
        if count and training_counts.get(name, 0) == 0
    )
    if training.other == 0:
        unseen += serving.other
    return unseen / serving.count


def _grade(value: float | None, thresholds: tuple[float, float]) -> str:
    if value is None:
        return SEVERITY_NONE
    warning, critical = thresholds
    if value > critical:
        return SEVERITY_CRITICAL
    if value > warning:
        return SEVERITY_WARNING
    return SEVERITY_NONE


def evaluate_feature_parity(
    training: Mapping[str, Profile],
    serving: Mapping[str, Profile],
    config: ParityConfig | None = None,
) -> list[FeatureParityResult]:
    """Compare serving profiles with the training reference, feature by feature.

    Besides the drift statistics of ``evaluate_window`` (same config, same
    correction), each result reports the missing-rate gap and the share of
    serving values outside the training range or vocabulary. A feature absent on
    one side is out of parity (issue ``absent_in_serving`` / ``absent_in_training``).
    """
    config = config or ParityConfig()
    drift_results = evaluate_window(training, serving, config.drift)
    results = []
    for drift in drift_results:
        train_profile = training.get(drift.feature)
        serve_profile = serving.get(drift.feature)
        issues: list[str] = []
        severity = drift.severity
        if drift.drifted:
            issues.append("drift")
        if train_profile is None:
            issues.append("absent_in_training")
            severity = SEVERITY_CRITICAL
        if serve_profile is None:
            issues.append("absent_in_serving")
            severity = SEVERITY_CRITICAL
        train_missing = (
            train_profile.missing_rate if train_profile is not None else None
        )
        serve_missing = (
            serve_profile.missing_rate if serve_profile is not None else None
        )
        missing_gap = None
        violation = None
        if train_missing is not None and serve_missing is not None:
            missing_gap = serve_missing - train_missing
            grade = _grade(abs(missing_gap), config.missing_rate)
            if grade != SEVERITY_NONE:
                issues.append("missing_rate")
                severity = max(severity, grade, key=_SEVERITY_RANK.__getitem__)
        if train_profile is not None and serve_profile is not None:
            violation = _range_violation_rate(train_profile, serve_profile)
            grade = _grade(violation, config.range_violation)
            if grade != SEVERITY_NONE:
                issues.append("range_violation")
                severity = max(severity, grade, key=_SEVERITY_RANK.__getitem__)
        results.append(
            FeatureParityResult(
                feature=drift.feature,
                kind=drift.kind,
                drift=drift,
                training_missing_rate=train_missing,
                serving_missing_rate=serve_missing,
                missing_rate_difference=missing_gap,
                range_violation_rate=violation,
                in_parity=not issues,
                severity=severity,
                issues=tuple(issues),
            )
        )
    return results
