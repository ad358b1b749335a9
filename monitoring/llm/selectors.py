"""Reads of LLM call monitoring: the hourly windows and the days of a period,
for a deployment's LLM dashboard and the API. A fixed number of queries; the
permission rule is the model's (whoever may not see it gets a 404)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from approvals.selectors import deployment_get
from models_registry.selectors import model_get
from monitoring.llm.baselines import eval_baselines
from monitoring.llm.config import LlmConfig, llm_config_of
from monitoring.llm.windows import call_metrics, merge_stats
from monitoring.models import Check, MonitoringWindow
from monitoring.selectors.alerts import RESOLVED_LAST, alerts_base
from monitoring.services.aggregation.references import load_latency
from monitoring.services.targets import config_for, environment_by_name
from monitoring.windows import quantile

PERIOD_DAYS = (1, 7, 30, 90)
LLM_CHECKS = (Check.LLM_COST, Check.LLM_QUALITY, Check.LLM_SAFETY)
ALERTS_SHOWN = 20


@dataclass
class LlmPeriod:
    model: Any
    environment: Any
    days: int
    since: datetime
    deployment: Any = None
    hours: list[dict[str, Any]] = field(default_factory=list)
    daily: list[dict[str, Any]] = field(default_factory=list)
    total: dict[str, Any] = field(default_factory=dict)
    limits: LlmConfig = field(default_factory=LlmConfig)
    # Judge baselines per metric: configured, else the eval baseline.
    baselines: dict[str, float] = field(default_factory=dict)
    alerts: list[Any] = field(default_factory=list)

    @property
    def slo_ms(self) -> float | None:
        return float(self.model.latency_slo_ms) if self.model.latency_slo_ms else None

    @property
    def slo_percentile(self) -> int:
        return self.model.latency_slo_percentile


def _percentiles(profile) -> dict[str, float | None]:
    return {
        f"latency_p{q}": quantile(profile, q / 100) if profile else None
        for q in (50, 90, 95, 99)
    }


def _fill(period: LlmPeriod, rows: list[dict]) -> LlmPeriod:
    """Hours, days and the period's total from window rows in start order."""
    days: dict[date, dict] = {}
    total: dict = {}
    total_latency = None
    for row in rows:
        stats = row["llm"] or {}
        if not stats.get("calls"):
            continue
        profile = load_latency(row["latency_profile"])
        period.hours.append(
            {
                "start": row["start"],
                "version": row["target__version__version"],
                **call_metrics(stats),
                **_percentiles(profile),
                "failing": [
                    name
                    for name in (row["summary"] or {}).get("failing", [])
                    if name.split(":", 1)[0] in LLM_CHECKS
                ],
            }
        )
        day = days.setdefault(row["start"].date(), {"stats": {}, "latency": None})
        day["stats"] = merge_stats(day["stats"], stats)
        if profile is not None:
            day["latency"] = (
                profile if day["latency"] is None else day["latency"].merge(profile)
            )
            total_latency = (
                profile if total_latency is None else total_latency.merge(profile)
            )
        total = merge_stats(total, stats)
    period.daily = [
        {"day": day, **call_metrics(entry["stats"]), **_percentiles(entry["latency"])}
        for day, entry in sorted(days.items())
    ]
    period.total = {**call_metrics(total), **_percentiles(total_latency)}
    return period


def _rows(**filters) -> list[dict]:
    return list(
        MonitoringWindow.objects.filter(**filters)
        .order_by("start", "target__version__version")
        .values(
            "start",
            "llm",
            "latency_profile",
            "summary",
            "target__version__version",
        )
    )


def _since(days: int, now: datetime | None) -> tuple[int, datetime]:
    days = days if days in PERIOD_DAYS else 7
    now = now or timezone.now()
    return days, now - timedelta(days=days)


def llm_period(
    *,
    actor,
    model_name: str,
    environment_name: str,
    days: int = 7,
    now: datetime | None = None,
) -> LlmPeriod:
    """Every version's LLM calls of a model in an environment over a period."""
    model = model_get(actor=actor, name=model_name)
    environment = environment_by_name(environment_name)
    days, since = _since(days, now)
    period = LlmPeriod(model=model, environment=environment, days=days, since=since)
    period.limits = llm_config_of(config_for(model))
    rows = _rows(target__model=model, target__environment=environment, start__gte=since)
    return _fill(period, rows)


def llm_dashboard(
    *, actor, deployment_id: int, days: int = 7, now: datetime | None = None
) -> LlmPeriod:
    """The LLM calls of a deployment's version in its environment, with the
    LLM alerts of that version."""
    deployment = deployment_get(actor=actor, id=deployment_id)
    days, since = _since(days, now)
    model = deployment.model
    period = LlmPeriod(
        model=model,
        environment=deployment.environment,
        days=days,
        since=since,
        deployment=deployment,
    )
    period.limits = llm_config_of(config_for(model))
    rows = _rows(
        target__version_id=deployment.version_id,
        target__environment_id=deployment.environment_id,
        start__gte=since,
    )
    from monitoring.services.checks import baseline_metrics

    period.baselines = {
        **eval_baselines(
            deployment.version_id, baseline_metrics(deployment.version_id)
        ),
        **period.limits.judge_baselines,
    }
    period.alerts = list(
        alerts_base()
        .filter(
            target__version_id=deployment.version_id,
            target__environment_id=deployment.environment_id,
            kind__in=LLM_CHECKS,
        )
        .order_by(RESOLVED_LAST, "-opened_at", "-pk")[:ALERTS_SHOWN]
    )
    return _fill(period, rows)
