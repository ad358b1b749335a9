"""Checks of outcomes: concept drift against the test evaluation (once labels
arrive), the latency SLO and its error budget, and the business KPIs."""

from __future__ import annotations

from django.conf import settings
from gatehouse_client.profile import outcomes

from models_registry.models import Evaluation, Split
from monitoring.models import Check
from monitoring.services.aggregation import load_latency
from monitoring.services.checks.verdicts import (
    CRITICAL,
    INSUFFICIENT,
    NO_BASELINE,
    NONE,
    OK,
    WARNING,
    Verdict,
)
from monitoring.windows import quantile, share_above


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


def concept_drift_verdicts(
    window, model, config, baseline
) -> tuple[list[Verdict], dict]:
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


def latency_verdicts(window, model) -> tuple[list[Verdict], dict]:
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


def kpi_verdicts(window, model) -> tuple[list[Verdict], dict]:
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
