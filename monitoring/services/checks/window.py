"""Judging a closed window: every check, stored per window and subject, and the
alerts they raise or clear.

A window is checked when it closes (the beat task finds windows that are due:
closed for ``MONITORING_CHECK_GRACE_SECONDS`` and changed since their last
check) and again whenever late data or labels change it. Each check produces
one ``CheckResult`` per subject (feature, metric, KPI, attribute); the window
keeps a small ``summary`` of the numbers so dashboards never read profiles.

Defaults (documented in README, per model in ``MonitoringConfig``):

* data drift: ``monitoring.drift.DriftConfig`` (Wasserstein / std for numeric,
  Jensen-Shannon for categorical, warning 0.1, critical 0.2, significance
  required at alpha 0.05 after Holm's correction over the features);
* prediction drift: the same on the score distribution;
* training-serving skew: ``evaluate_feature_parity`` against an uploaded
  (training) reference; only data-quality gaps (missing rate, values outside
  the training range or vocabulary, absent features) count here, since the
  distribution itself is the data drift check;
* concept drift: each metric of the latest test evaluation that the labels
  support; a drop beyond ``performance_tolerance`` is a warning, below the
  model's offline success threshold is critical; needs
  ``MONITORING_MIN_LABELS`` labels;
* latency: the model's SLO percentile against ``latency_slo_ms``; the error
  budget is the share of requests allowed above the SLO (1 % for p99); a burn
  rate above 1 is a warning, at or above ``MONITORING_LATENCY_CRITICAL_BURN``
  critical;
* KPIs: the window mean of each online success metric against its threshold;
  a miss is a warning, a miss by more than ``MONITORING_KPI_CRITICAL_MARGIN``
  (relative) critical;
* fairness: per fairness attribute, over the window and the hours before it
  (``MONITORING_FAIRNESS_HOURS``, 24 in all), the gap between groups of the
  positive prediction rate, and with labels of the accuracy and true positive
  rate;
  above ``fairness_max_disparity`` a warning, above twice it critical, if the
  gap is significant (two-proportion z-test, p < 0.05); groups with fewer than
  ``MONITORING_MIN_COUNT`` predictions are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from models_registry.models import Evaluation, Split
from monitoring import outcomes
from monitoring.drift import (
    DriftConfig,
    ParityConfig,
    evaluate_feature_parity,
    evaluate_prediction_drift,
    evaluate_window,
)
from monitoring.models import (
    Check,
    CheckResult,
    CheckSeverity,
    MonitoringDay,
    MonitoringWindow,
    ReferenceSource,
)
from monitoring.profiles import BinsMismatchError
from monitoring.services.aggregation import (
    load_latency,
    load_profile,
    load_score,
    reference_state_of,
)
from monitoring.services.alerts import alerts_sync
from monitoring.services.targets import config_for
from monitoring.statistics import adjust_pvalues
from monitoring.windows import HOUR_SECONDS, merge_segments, quantile, share_above

FAIRNESS_ALPHA = 0.05
OK = "ok"
INSUFFICIENT = "insufficient_data"
NO_REFERENCE = "no_reference"
NO_BASELINE = "no_baseline"
NO_DATA = "no_data"

NONE = CheckSeverity.NONE
WARNING = CheckSeverity.WARNING
CRITICAL = CheckSeverity.CRITICAL


@dataclass
class Verdict:
    check: str
    subject: str
    status: str
    severity: str = NONE
    score: float | None = None
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_failing(self) -> bool:
        return self.severity != NONE

    @property
    def is_passing(self) -> bool:
        return self.status == OK and self.severity == NONE


def _finite(value):
    if value is None:
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None


def drift_config_for(config) -> DriftConfig:
    return DriftConfig.from_dict(config.drift) if config.drift else DriftConfig()


def _drift_verdict(check: str, result) -> Verdict:
    return Verdict(
        check=check,
        subject=result.feature,
        status=result.status,
        severity=result.severity,
        score=_finite(result.score),
        threshold=result.warning_threshold,
        details={
            "method": result.method,
            "kind": result.kind,
            "statistics": {k: _finite(v) for k, v in result.statistics.items()},
            "p_value": _finite(result.p_value),
            "corrected_p_value": _finite(result.corrected_p_value),
            "critical_threshold": result.critical_threshold,
            "reference_count": result.reference_count,
            "current_count": result.current_count,
        },
    )


def _data_drift(state, current, drift_config) -> list[Verdict]:
    if not state.features:
        return []
    results = evaluate_window(state.features, current, drift_config)
    return [_drift_verdict(Check.DATA_DRIFT, result) for result in results]


def _prediction_drift(window, state, drift_config) -> list[Verdict]:
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
    return [_drift_verdict(Check.PREDICTION_DRIFT, result)]


def _skew(window, state, current, drift_config) -> list[Verdict]:
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
                score=_finite(result.range_violation_rate),
                threshold=ParityConfig().range_violation[0],
                details={
                    "issues": list(result.issues),
                    "training_missing_rate": _finite(result.training_missing_rate),
                    "serving_missing_rate": _finite(result.serving_missing_rate),
                    "missing_rate_difference": _finite(result.missing_rate_difference),
                    "range_violation_rate": _finite(result.range_violation_rate),
                    "drift_score": _finite(result.drift.score),
                },
            )
        )
    return verdicts


def baseline_metrics(version_id: int) -> dict[str, float]:
    evaluation = (
        Evaluation.objects.filter(version_id=version_id, split=Split.TEST)
        .order_by("-created_at", "-pk")
        .first()
    )
    if evaluation is None:
        return {}
    return {
        name: float(value)
        for name, value in evaluation.metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def _concept_drift(window, model, config, baseline) -> tuple[list[Verdict], dict]:
    metrics = outcomes.metrics_from_counts(config.task, window.outcomes)
    if not metrics:
        return [], {}
    labelled = int(metrics.get("labelled", 0))
    comparable = [
        name
        for name in metrics
        if name in outcomes.HIGHER_IS_BETTER and name in baseline
    ]
    if not comparable:
        return [Verdict(Check.CONCEPT_DRIFT, "", NO_BASELINE)], metrics
    offline = {
        entry.get("metric"): entry
        for entry in model.offline_success_metrics
        if isinstance(entry, dict)
    }
    verdicts = []
    for name in comparable:
        higher = outcomes.HIGHER_IS_BETTER[name]
        current, reference = metrics[name], baseline[name]
        drop = (reference - current) if higher else (current - reference)
        verdict = Verdict(
            check=Check.CONCEPT_DRIFT,
            subject=name,
            status=OK,
            score=current,
            threshold=reference - config.performance_tolerance
            if higher
            else reference + config.performance_tolerance,
            details={
                "baseline": reference,
                "drop": drop,
                "labelled": labelled,
                "tolerance": config.performance_tolerance,
            },
        )
        if labelled < settings.MONITORING_MIN_LABELS:
            verdict.status = INSUFFICIENT
        else:
            success = offline.get(name)
            if success and isinstance(success.get("threshold"), int | float):
                limit = float(success["threshold"])
                verdict.details["offline_threshold"] = limit
                below = current < limit if higher else current > limit
                if below:
                    verdict.severity = CRITICAL
            if verdict.severity == NONE and drop > config.performance_tolerance:
                verdict.severity = WARNING
        verdicts.append(verdict)
    return verdicts, metrics


def _latency(window, model) -> tuple[list[Verdict], dict]:
    profile = load_latency(window.latency_profile)
    if profile is None or profile.count == 0:
        return [], {}
    summary = {
        "p50": window.latency_p50,
        "p95": window.latency_p95,
        "p99": window.latency_p99,
        "count": profile.count,
    }
    if not model.latency_slo_ms:
        return [], summary
    percentile = model.latency_slo_percentile
    slo = float(model.latency_slo_ms)
    value = quantile(profile, percentile / 100)
    slow = share_above(profile, slo)
    budget = 1 - percentile / 100
    burn = slow / budget if budget > 0 else None
    summary.update(slo=slo, percentile=percentile, slow_share=slow, burn_rate=burn)
    verdict = Verdict(
        check=Check.LATENCY,
        subject=f"p{percentile}",
        status=OK,
        score=value,
        threshold=slo,
        details={
            "percentile": percentile,
            "slo_ms": slo,
            "slow_share": slow,
            "error_budget": budget,
            "burn_rate": burn,
            "count": profile.count,
        },
    )
    if profile.count < settings.MONITORING_MIN_COUNT:
        verdict.status = INSUFFICIENT
    elif burn is not None and burn >= settings.MONITORING_LATENCY_CRITICAL_BURN:
        verdict.severity = CRITICAL
    elif burn is not None and burn > 1:
        verdict.severity = WARNING
    return [verdict], summary


def _kpis(window, model) -> tuple[list[Verdict], dict]:
    verdicts, summary = [], {}
    for name, stats in window.kpis.items():
        if stats.get("count"):
            summary[name] = stats["sum"] / stats["count"]
    for entry in model.online_success_metrics:
        if not isinstance(entry, dict) or not entry.get("kpi"):
            continue
        name = str(entry["kpi"])
        threshold = entry.get("threshold")
        if name not in summary or not isinstance(threshold, int | float):
            continue
        value = summary[name]
        higher = entry.get("direction", "higher") != "lower"
        missed = value < threshold if higher else value > threshold
        verdict = Verdict(
            check=Check.KPI,
            subject=name,
            status=OK,
            score=value,
            threshold=float(threshold),
            details={
                "direction": "higher" if higher else "lower",
                "count": window.kpis[name]["count"],
                "min": window.kpis[name]["min"],
                "max": window.kpis[name]["max"],
            },
        )
        if missed:
            margin = abs(value - threshold) / max(abs(threshold), 1e-12)
            verdict.details["relative_miss"] = margin
            verdict.severity = (
                CRITICAL
                if margin > settings.MONITORING_KPI_CRITICAL_MARGIN
                else WARNING
            )
        verdicts.append(verdict)
    return verdicts, summary


def _gap_p_value(successes: tuple[int, int], totals: tuple[int, int]) -> float:
    """Two-sided p-value of the two-proportion z-test (pooled variance)."""
    (x1, x2), (n1, n2) = successes, totals
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 1.0 if x1 / n1 == x2 / n2 else 0.0
    z = abs(x1 / n1 - x2 / n2) / math.sqrt(variance)
    return math.erfc(z / math.sqrt(2))


# metric: (numerator, denominator) counts of a group's rate.
_RATES = {
    "positive_rate": ("positive", "count"),
    "accuracy": ("correct", "labelled"),
    "true_positive_rate": ("true_positive", "label_positive"),
}


def _recent_segments(window) -> dict:
    """The segment counts of the window and the windows of the hours before it
    (``MONITORING_FAIRNESS_HOURS`` in all): a disparity is a matter of days,
    and an hour of a small group is mostly noise."""
    hours = settings.MONITORING_FAIRNESS_HOURS
    merged: dict = {}
    earlier = MonitoringWindow.objects.filter(
        target_id=window.target_id,
        start__gt=window.start - timedelta(hours=hours),
        start__lt=window.start,
    ).values_list("segments", flat=True)
    for segments in [*earlier, window.segments]:
        merged = merge_segments(merged, segments or {})
    return merged


def _fairness(window, model, config) -> tuple[list[Verdict], dict]:
    """Largest gap of each rate between the groups of each fairness attribute.

    A gap above ``fairness_max_disparity`` fails only when it is significant
    (two-proportion z-test between the best and the worst group, Holm-corrected
    over the gaps tested in the window, p < 0.05): an hour of a small group is
    noisy, and noise is not a disparity.
    """
    verdicts, summary = [], {}
    tested: list[tuple[Verdict, float]] = []
    limit = model.fairness_max_disparity
    minimum = settings.MONITORING_MIN_COUNT
    segments = _recent_segments(window)
    for attribute in model.fairness_attributes:
        groups = segments.get(attribute)
        if not groups:
            continue
        rates: dict[str, dict[str, tuple[int, int]]] = {}
        maes: dict[str, float] = {}
        for group, counts in groups.items():
            for metric, (numerator, denominator) in _RATES.items():
                total = counts.get(denominator, 0)
                if total >= minimum and numerator in counts:
                    rates.setdefault(metric, {})[group] = (counts[numerator], total)
            labelled = counts.get("labelled", 0)
            if labelled >= minimum and "abs_error_sum" in counts:
                maes[group] = counts["abs_error_sum"] / labelled
        measured = {
            metric: {group: x / n for group, (x, n) in by_group.items()}
            for metric, by_group in rates.items()
        }
        if maes:
            measured["mae"] = maes
        for metric, by_group in measured.items():
            subject = f"{attribute}:{metric}"
            if len(by_group) < 2:
                verdicts.append(Verdict(Check.FAIRNESS, subject, INSUFFICIENT))
                continue
            worst = min(by_group, key=by_group.get)
            best = max(by_group, key=by_group.get)
            gap = round(by_group[best] - by_group[worst], 12)
            summary[subject] = {"gap": gap, "groups": by_group}
            p_value = None
            if metric in rates:
                pair = rates[metric]
                p_value = _gap_p_value(
                    (pair[best][0], pair[worst][0]), (pair[best][1], pair[worst][1])
                )
            verdict = Verdict(
                check=Check.FAIRNESS,
                subject=subject,
                status=OK,
                score=gap,
                threshold=limit,
                details={
                    "groups": by_group,
                    "best": best,
                    "worst": worst,
                    "p_value": p_value,
                },
            )
            verdicts.append(verdict)
            tested.append((verdict, 0.0 if p_value is None else p_value))
    corrected = adjust_pvalues([p for _, p in tested], "holm")
    for (verdict, _), adjusted in zip(tested, corrected, strict=True):
        if verdict.details["p_value"] is not None:
            verdict.details["corrected_p_value"] = adjusted
        if adjusted >= FAIRNESS_ALPHA:
            continue
        if verdict.score > 2 * limit:
            verdict.severity = CRITICAL
        elif verdict.score > limit:
            verdict.severity = WARNING
    return verdicts, summary


def _roll_up_day(window: MonitoringWindow, now: datetime) -> None:
    """Recompute the window's day from the day's checked windows.

    The day row is locked after the window (lock order: window, day), so two
    windows of one day checked at once recompute one after the other, each from
    the committed windows plus its own.
    """
    start = window.start.replace(hour=0, minute=0, second=0, microsecond=0)
    day, _ = MonitoringDay.objects.get_or_create(
        target_id=window.target_id, day=start.date()
    )
    MonitoringDay.objects.select_for_update().filter(pk=day.pk).first()
    rows = MonitoringWindow.objects.filter(
        target_id=window.target_id,
        start__gte=start,
        start__lt=start + timedelta(days=1),
        checked_at__isnull=False,
    ).values(
        "drift",
        "summary",
        "prediction_count",
        "label_count",
        "latency_p50",
        "latency_p95",
        "latency_p99",
    )
    drift: dict[str, float] = {}
    latency: dict[str, float] = {}
    sums: dict[str, dict[str, list[float]]] = {"performance": {}, "kpis": {}}
    gaps: dict[str, float] = {}
    counts = {"prediction_count": 0, "label_count": 0}
    for row in rows:
        for feature, score in (row["drift"] or {}).items():
            if score is not None and score > drift.get(feature, -1.0):
                drift[feature] = score
        for key in counts:
            counts[key] += row[key]
        for key in ("latency_p50", "latency_p95", "latency_p99"):
            if row[key] is not None and row[key] > latency.get(key, -1.0):
                latency[key] = row[key]
        summary = row["summary"] or {}
        for part, values in sums.items():
            for name, value in (summary.get(part) or {}).items():
                if isinstance(value, int | float):
                    values.setdefault(name, []).append(value)
        for subject, entry in (summary.get("fairness") or {}).items():
            gaps[subject] = max(gaps.get(subject, 0.0), entry.get("gap", 0.0))
    MonitoringDay.objects.filter(pk=day.pk).update(
        drift=drift,
        summary={
            **counts,
            **latency,
            "performance": {k: sum(v) / len(v) for k, v in sums["performance"].items()},
            "kpi_means": {k: sum(v) / len(v) for k, v in sums["kpis"].items()},
            "fairness": {subject: {"gap": gap} for subject, gap in gaps.items()},
        },
        updated_at=now,
    )


def windows_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Closed windows changed since their last check, oldest first."""
    now = now or timezone.now()
    closed_before = now - timedelta(
        seconds=HOUR_SECONDS + settings.MONITORING_CHECK_GRACE_SECONDS
    )
    return list(
        MonitoringWindow.objects.filter(needs_check=True, start__lte=closed_before)
        .order_by("start", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def window_check(
    *, window_id: int, now: datetime | None = None, force: bool = False
) -> list[CheckResult] | None:
    """Run every check on one window, store the results, raise and clear alerts.

    None when the window is gone or has not changed since its last check
    (``force`` checks it anyway).
    """
    now = now or timezone.now()
    with transaction.atomic():
        window = (
            MonitoringWindow.objects.select_for_update(no_key=True, of=("self",))
            .select_related(
                "target__model__team",
                "target__version",
                "target__environment",
                "reference",
            )
            .filter(pk=window_id)
            .first()
        )
        if window is None or not (window.needs_check or force):
            return None
        target = window.target
        model = target.model
        config = config_for(model)
        drift_config = drift_config_for(config)
        state = reference_state_of(window.reference)
        current = {
            row.feature: load_profile(row.profile, state.features[row.feature])
            for row in window.feature_profiles.all()
            if row.feature in state.features
        }
        verdicts = _data_drift(state, current, drift_config)
        verdicts += _prediction_drift(window, state, drift_config)
        verdicts += _skew(window, state, current, drift_config)
        concept, performance = _concept_drift(
            window, model, config, baseline_metrics(target.version_id)
        )
        verdicts += concept
        latency, latency_summary = _latency(window, model)
        verdicts += latency
        kpis, kpi_summary = _kpis(window, model)
        verdicts += kpis
        fairness, fairness_summary = _fairness(window, model, config)
        verdicts += fairness

        CheckResult.objects.filter(window=window).delete()
        results = CheckResult.objects.bulk_create(
            [
                CheckResult(
                    window=window,
                    kind=verdict.check,
                    subject=verdict.subject,
                    status=verdict.status,
                    severity=verdict.severity,
                    score=verdict.score,
                    threshold=verdict.threshold,
                    details=verdict.details,
                    created_at=now,
                )
                for verdict in verdicts
            ]
        )
        drift = [v for v in verdicts if v.check == Check.DATA_DRIFT]
        prediction = next(
            (v for v in verdicts if v.check == Check.PREDICTION_DRIFT), None
        )
        window.drift = {
            v.subject: round(v.score, 6)
            for v in drift
            if v.status == OK and v.score is not None
        }
        window.summary = {
            "drift_severity": {v.subject: v.severity for v in drift if v.is_failing},
            "prediction_drift": prediction.score if prediction else None,
            "performance": performance,
            "latency": latency_summary,
            "kpis": kpi_summary,
            "fairness": fairness_summary,
            "failing": sorted(
                {f"{v.check}:{v.subject}" for v in verdicts if v.is_failing}
            ),
        }
        window.checked_revision = window.revision
        window.needs_check = False
        window.checked_at = now
        window.save(
            update_fields=[
                "drift",
                "summary",
                "checked_revision",
                "needs_check",
                "checked_at",
            ]
        )
        _roll_up_day(window, now)
        alerts_sync(window=window, verdicts=verdicts, now=now)
    return results
