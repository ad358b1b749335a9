"""Checks of distributions against the window's reference: data drift,
prediction drift and training-serving skew (``monitoring.drift``)."""

from __future__ import annotations

from gatehouse_client.profile import BinsMismatchError

from monitoring.drift import (
    DriftConfig,
    ParityConfig,
    evaluate_feature_parity,
    evaluate_prediction_drift,
    evaluate_window,
)
from monitoring.models import Check, ReferenceSource
from monitoring.services.aggregation import load_score
from monitoring.services.checks.verdicts import (
    INSUFFICIENT,
    NO_REFERENCE,
    NONE,
    OK,
    Verdict,
    finite,
)


def drift_config_for(config) -> DriftConfig:
    return DriftConfig.from_dict(config.drift) if config.drift else DriftConfig()


def _drift_verdict(check: str, result, profile=None) -> Verdict:
    """A drift result as a verdict; its details keep every statistic, so the
    verdict can be reproduced from what the API and the dashboard show."""
    missing = profile.missing if profile is not None else None
    return Verdict(
        check=check,
        subject=result.feature,
        status=result.status,
        severity=result.severity,
        score=finite(result.score),
        threshold=result.warning_threshold,
        details={
            "method": result.method,
            "kind": result.kind,
            "statistics": {k: finite(v) for k, v in result.statistics.items()},
            "p_value": finite(result.p_value),
            "corrected_p_value": finite(result.corrected_p_value),
            "critical_threshold": result.critical_threshold,
            "reference_count": result.reference_count,
            "current_count": result.current_count,
            "current_missing": missing,
            "missing_rate": finite(profile.missing_rate) if profile else None,
        },
    )


def data_drift_verdicts(state, current, drift_config) -> list[Verdict]:
    if not state.features:
        return []
    results = evaluate_window(state.features, current, drift_config)
    return [
        _drift_verdict(Check.DATA_DRIFT, result, current.get(result.feature))
        for result in results
    ]


def prediction_drift_verdicts(window, state, drift_config) -> list[Verdict]:
    current = load_score(window.score_profile)
    if current is None:
        return []
    if state.score is None:
        return [Verdict(Check.PREDICTION_DRIFT, "score", NO_REFERENCE)]
    try:
        result = evaluate_prediction_drift(
            state.score, current, drift_config, name="score"
        )
    except BinsMismatchError:
        return [Verdict(Check.PREDICTION_DRIFT, "score", NO_REFERENCE)]
    return [_drift_verdict(Check.PREDICTION_DRIFT, result, current)]


def skew_verdicts(window, state, current, drift_config) -> list[Verdict]:
    if not state.features or window.reference is None:
        return []
    if window.reference.source != ReferenceSource.UPLOAD:
        return []
    verdicts = []
    for result in evaluate_feature_parity(
        state.features, current, ParityConfig(drift=drift_config)
    ):
        quality = [issue for issue in result.issues if issue != "drift"]
        severity = result.severity if quality else NONE
        if result.drift.status == INSUFFICIENT and not quality:
            status = INSUFFICIENT
        else:
            status = OK
        verdicts.append(
            Verdict(
                check=Check.SKEW,
                subject=result.feature,
                status=status,
                severity=severity,
                score=finite(result.range_violation_rate),
                threshold=ParityConfig().range_violation[0],
                details={
                    "issues": list(result.issues),
                    "training_missing_rate": finite(result.training_missing_rate),
                    "serving_missing_rate": finite(result.serving_missing_rate),
                    "missing_rate_difference": finite(result.missing_rate_difference),
                    "range_violation_rate": finite(result.range_violation_rate),
                    "drift_score": finite(result.drift.score),
                },
            )
        )
    return verdicts
