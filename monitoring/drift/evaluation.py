"""Drift verdicts on the features of one window: the statistics of each feature
(``monitoring.statistics``), p-values corrected over the features, thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from gatehouse_client.profile import CategoricalProfile, NumericProfile, Profile

from monitoring.drift.config import CATEGORICAL, NUMERIC, PVALUE_METHODS, DriftConfig
from monitoring.statistics import (
    adjust_pvalues,
    categorical_statistics,
    numeric_statistics,
)

STATUS_OK = "ok"
STATUS_INSUFFICIENT = "insufficient_data"
STATUS_NO_REFERENCE = "no_reference"

SEVERITY_NONE = "none"
SEVERITY_WARNING = "warning"
SEVERITY_CRITICAL = "critical"


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
