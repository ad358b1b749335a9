"""Checking a window: lock it, run every check, store the results and the
window's summary, roll up its day and sync the target's alerts, in one
transaction (lock order: window, day, target, alerts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from monitoring.llm.checks import llm_verdicts
from monitoring.models import Check, CheckResult, MonitoringWindow
from monitoring.services.aggregation import load_profile, reference_state_of
from monitoring.services.alerts import alerts_sync
from monitoring.services.checks.days import day_roll_up
from monitoring.services.checks.distributions import (
    data_drift_verdicts,
    drift_config_for,
    prediction_drift_verdicts,
    skew_verdicts,
)
from monitoring.services.checks.fairness import fairness_verdicts
from monitoring.services.checks.performance import (
    baseline_metrics,
    concept_drift_verdicts,
    kpi_verdicts,
    latency_verdicts,
)
from monitoring.services.checks.verdicts import OK, Verdict
from monitoring.services.targets import config_for
from monitoring.windows import HOUR_SECONDS


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


@dataclass
class Judgement:
    """Every verdict on one window, and the numbers its summary keeps."""

    verdicts: list[Verdict] = field(default_factory=list)
    performance: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, Any] = field(default_factory=dict)
    kpis: dict[str, Any] = field(default_factory=dict)
    fairness: dict[str, Any] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)


def window_check(
    *, window_id: int, now: datetime | None = None, force: bool = False
) -> list[CheckResult] | None:
    """Run every check on one window, store the results, raise and clear alerts.

    None when the window is gone or has not changed since its last check
    (``force`` checks it anyway).
    """
    now = now or timezone.now()
    with transaction.atomic():
        window = _lock_window(window_id)
        if window is None or not (window.needs_check or force):
            return None
        judgement = _judge(window)
        results = _store_results(window, judgement.verdicts, now)
        _store_summary(window, judgement, now)
        day_roll_up(window, now)
        alerts_sync(window=window, verdicts=judgement.verdicts, now=now)
    return results


def _lock_window(window_id: int) -> MonitoringWindow | None:
    return (
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


def _judge(window: MonitoringWindow) -> Judgement:
    """Run the checks in a fixed order: distributions, outcomes, fairness,
    LLM calls."""
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
    judgement = Judgement()
    judgement.verdicts = data_drift_verdicts(state, current, drift_config)
    judgement.verdicts += prediction_drift_verdicts(window, state, drift_config)
    judgement.verdicts += skew_verdicts(window, state, current, drift_config)
    baseline = baseline_metrics(target.version_id)
    concept, judgement.performance = concept_drift_verdicts(
        window, model, config, baseline
    )
    judgement.verdicts += concept
    latency, judgement.latency = latency_verdicts(window, model)
    judgement.verdicts += latency
    kpis, judgement.kpis = kpi_verdicts(window, model)
    judgement.verdicts += kpis
    fairness, judgement.fairness = fairness_verdicts(window, model, config)
    judgement.verdicts += fairness
    llm, judgement.llm = llm_verdicts(window, config, baseline)
    judgement.verdicts += llm
    return judgement


def _store_results(
    window: MonitoringWindow, verdicts: list[Verdict], now: datetime
) -> list[CheckResult]:
    """Replace the window's stored results with these verdicts."""
    CheckResult.objects.filter(window=window).delete()
    return CheckResult.objects.bulk_create(
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


def _store_summary(
    window: MonitoringWindow, judgement: Judgement, now: datetime
) -> None:
    """Keep the small numbers dashboards read, and mark the window checked."""
    verdicts = judgement.verdicts
    drift = [v for v in verdicts if v.check == Check.DATA_DRIFT]
    prediction = next((v for v in verdicts if v.check == Check.PREDICTION_DRIFT), None)
    window.drift = {
        v.subject: round(v.score, 6)
        for v in drift
        if v.status == OK and v.score is not None
    }
    window.summary = {
        "drift_severity": {v.subject: v.severity for v in drift if v.is_failing},
        "prediction_drift": prediction.score if prediction else None,
        "performance": judgement.performance,
        "latency": judgement.latency,
        "kpis": judgement.kpis,
        "fairness": judgement.fairness,
        "llm": judgement.llm,
        "failing": sorted({f"{v.check}:{v.subject}" for v in verdicts if v.is_failing}),
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
