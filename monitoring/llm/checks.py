"""Checks of a window of LLM calls: cost per call against its baseline (a cost
spike), judge scores against the eval baseline (a quality drop), and the share
of calls with a safety flag. Their verdicts raise and clear alerts through the
monitoring alerts like every other check; the window's summary keeps the
numbers (``summary["llm"]``).

Baselines: the configured cost per call, else the mean cost per call of the
target's windows in the ``cost_baseline_days`` before this one; the configured
judge baseline of a metric, else the metric in the version's latest eval-harness
evaluation (``LlmEvaluation``, safety evaluations aside) that has it, else in
its latest test-split evaluation.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from monitoring.llm.baselines import eval_baselines
from monitoring.llm.config import LlmConfig, llm_config_of
from monitoring.llm.windows import call_metrics
from monitoring.models import Check, MonitoringWindow
from monitoring.services.checks.verdicts import (
    CRITICAL,
    INSUFFICIENT,
    NO_BASELINE,
    OK,
    WARNING,
    Verdict,
)


def trailing_cost_per_call(window, days: int) -> float | None:
    """Mean cost per call of the target's windows in the days before this one
    (one query)."""
    rows = MonitoringWindow.objects.filter(
        target_id=window.target_id,
        start__gte=window.start - timedelta(days=days),
        start__lt=window.start,
    ).values_list("llm", flat=True)
    calls = cost = 0
    for stats in rows:
        calls += (stats or {}).get("calls", 0)
        cost += (stats or {}).get("cost", 0.0)
    if calls < settings.MONITORING_MIN_COUNT:
        return None
    return cost / calls


def _cost_verdict(window, metrics: dict, limits: LlmConfig) -> Verdict:
    baseline = limits.cost_per_call_baseline
    source = "configured"
    if baseline is None:
        baseline = trailing_cost_per_call(window, limits.cost_baseline_days)
        source = f"previous {limits.cost_baseline_days} days"
    value = metrics["cost_per_call"]
    verdict = Verdict(
        check=Check.LLM_COST,
        subject="",
        status=OK,
        score=value,
        threshold=None if baseline is None else baseline * limits.cost_spike_warning,
        details={
            "calls": metrics["calls"],
            "cost": metrics["cost"],
            "baseline_cost_per_call": baseline,
            "baseline_source": source,
            "spike_warning": limits.cost_spike_warning,
            "spike_critical": limits.cost_spike_critical,
        },
    )
    if baseline is None or baseline <= 0:
        verdict.status = NO_BASELINE
        return verdict
    ratio = value / baseline
    verdict.details["ratio"] = ratio
    if metrics["calls"] < settings.MONITORING_MIN_COUNT:
        verdict.status = INSUFFICIENT
    elif ratio >= limits.cost_spike_critical:
        verdict.severity = CRITICAL
    elif ratio >= limits.cost_spike_warning:
        verdict.severity = WARNING
    return verdict


def _quality_verdicts(
    metrics: dict, limits: LlmConfig, evaluated: dict[str, float]
) -> list[Verdict]:
    verdicts = []
    for name, judged in metrics["judge"].items():
        baseline = limits.judge_baselines.get(name, evaluated.get(name))
        verdict = Verdict(
            check=Check.LLM_QUALITY,
            subject=name,
            status=OK,
            score=judged["mean"],
            details={"judged": judged["count"], "tolerance": limits.judge_tolerance},
        )
        verdicts.append(verdict)
        if baseline is None:
            verdict.status = NO_BASELINE
            continue
        drop = baseline - judged["mean"]
        verdict.threshold = baseline - limits.judge_tolerance
        verdict.details.update(
            baseline=baseline,
            baseline_source="configured"
            if name in limits.judge_baselines
            else "evaluation",
            drop=drop,
        )
        if judged["count"] < limits.judge_min_count:
            verdict.status = INSUFFICIENT
        elif drop > 2 * limits.judge_tolerance:
            verdict.severity = CRITICAL
        elif drop > limits.judge_tolerance:
            verdict.severity = WARNING
    return verdicts


def _safety_verdict(metrics: dict, limits: LlmConfig) -> Verdict:
    rate = metrics["safety_flag_rate"]
    verdict = Verdict(
        check=Check.LLM_SAFETY,
        subject="",
        status=OK,
        score=rate,
        threshold=limits.safety_rate_warning,
        details={
            "calls": metrics["calls"],
            "flagged": round(rate * metrics["calls"]),
            "critical_rate": limits.safety_rate_critical,
            "categories": metrics["safety"],
        },
    )
    if metrics["calls"] < settings.MONITORING_MIN_COUNT:
        verdict.status = INSUFFICIENT
    elif rate > limits.safety_rate_critical:
        verdict.severity = CRITICAL
    elif rate > limits.safety_rate_warning:
        verdict.severity = WARNING
    return verdict


def llm_verdicts(
    window, config, evaluated: dict[str, float]
) -> tuple[list[Verdict], dict[str, Any]]:
    """The LLM checks of one window, and the numbers its summary keeps."""
    metrics = call_metrics(window.llm or {})
    if not metrics["calls"]:
        return [], {}
    limits = llm_config_of(config)
    verdicts = [_cost_verdict(window, metrics, limits)]
    if metrics["judge"]:
        evaluated = eval_baselines(window.target.version_id, evaluated)
    verdicts += _quality_verdicts(metrics, limits, evaluated)
    verdicts.append(_safety_verdict(metrics, limits))
    # The summary stays small: no per-category counts (the window keeps them).
    summary = {
        key: value
        for key, value in metrics.items()
        if key not in ("safety", "finish", "models", "judge")
    }
    summary["judge"] = {name: entry["mean"] for name, entry in metrics["judge"].items()}
    return verdicts, summary
