"""Training-serving parity: the drift of ``evaluate_window`` plus the
data-quality gaps between serving profiles and the training reference."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from gatehouse_client.profile import NumericProfile, Profile

from monitoring.drift.config import DriftConfig
from monitoring.drift.evaluation import (
    SEVERITY_CRITICAL,
    SEVERITY_NONE,
    SEVERITY_WARNING,
    FeatureDriftResult,
    evaluate_window,
)
from monitoring.statistics import categorical_table

_SEVERITY_RANK = {SEVERITY_NONE: 0, SEVERITY_WARNING: 1, SEVERITY_CRITICAL: 2}


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
    _names, training_counts, serving_counts = categorical_table(training, serving)
    # Columns the training data never had: its categories, and the buckets of
    # its tail sketch that stayed empty (a lower bound when its tail was not).
    unseen = int(serving_counts[training_counts == 0].sum())
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
