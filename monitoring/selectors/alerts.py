"""Reads of alerts (and of a pushed batch's status), limited to what the
actor may see: the list with its filters, one alert, and what its page draws
(the statistic's history, the feature's distributions)."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, QuerySet, Value, When

from models_registry import access as registry_access
from monitoring import access
from monitoring.errors import AlertNotFound, BatchNotFound
from monitoring.models import (
    Alert,
    AlertStatus,
    Check,
    CheckResult,
    FeatureProfile,
    MonitoringBatch,
    MonitoringTarget,
    MonitoringWindow,
)

# Unresolved alerts before resolved ones.
RESOLVED_LAST = Case(When(status=AlertStatus.RESOLVED, then=Value(1)), default=Value(0))


def batch_get(*, actor, id: int) -> MonitoringBatch:
    batch = (
        MonitoringBatch.objects.select_related(
            "model", "environment", "target__version"
        )
        .defer("payload")
        .filter(pk=id)
        .first()
    )
    if batch is None or not access.may_view(actor, batch.model):
        raise BatchNotFound("No such batch.")
    return batch


def alerts_base() -> QuerySet:
    return Alert.objects.select_related(
        "target__model",
        "target__version",
        "target__environment",
        "acknowledged_by",
        "resolved_by",
    )


def alert_list(*, actor, filters: dict[str, Any] | None = None) -> QuerySet:
    filters = filters or {}
    alerts = alerts_base().filter(
        target__model__in=registry_access.models_for(actor).values("pk")
    )
    if filters.get("model"):
        alerts = alerts.filter(target__model__name=filters["model"])
    if filters.get("environment"):
        alerts = alerts.filter(target__environment__name=filters["environment"])
    if filters.get("status"):
        alerts = alerts.filter(status=filters["status"])
    if filters.get("check"):
        alerts = alerts.filter(kind=filters["check"])
    if filters.get("severity"):
        alerts = alerts.filter(severity=filters["severity"])
    if filters.get("opened_from"):
        alerts = alerts.filter(opened_at__date__gte=filters["opened_from"])
    if filters.get("opened_to"):
        alerts = alerts.filter(opened_at__date__lte=filters["opened_to"])
    return alerts.order_by("-opened_at", "-pk")


def alert_filter_choices(
    *, actor
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The models and environments of the monitored versions the actor may
    see, for the alert list's filters (one query)."""
    rows = (
        MonitoringTarget.objects.filter(
            model__in=registry_access.models_for(actor).values("pk")
        )
        .values_list(
            "model__name",
            "environment__name",
            "environment__title",
            "environment__order",
        )
        .distinct()
    )
    models, environments = set(), {}
    for model, name, title, order in rows:
        models.add(model)
        environments[name] = (order, title)
    return (
        [(name, name) for name in sorted(models)],
        [
            (name, title)
            for name, (_, title) in sorted(
                environments.items(), key=lambda item: item[1][0]
            )
        ],
    )


def alert_history(alert: Alert, *, limit: int = 168) -> list[dict[str, Any]]:
    """The statistic the alert is about, window by window (its last ``limit``
    checked windows): start, score, threshold and severity (one query)."""
    rows = (
        CheckResult.objects.filter(
            window__target_id=alert.target_id, kind=alert.kind, subject=alert.subject
        )
        .order_by("-window__start")
        .values("window__start", "score", "threshold", "severity", "status")[:limit]
    )
    return [
        {
            "start": row["window__start"],
            "score": row["score"],
            "threshold": row["threshold"],
            "severity": row["severity"],
            "status": row["status"],
        }
        for row in reversed(rows)
    ]


def alert_distribution(alert: Alert) -> tuple[dict | None, dict | None]:
    """For an alert on a feature's distribution: the feature's reference profile
    and its profile in the alert's latest window (two queries), else Nones."""
    if alert.kind not in (Check.DATA_DRIFT, Check.SKEW) or not alert.subject:
        return None, None
    window = (
        MonitoringWindow.objects.filter(
            target_id=alert.target_id, start=alert.last_window_start
        )
        .select_related("reference")
        .only("pk", "reference__features")
        .first()
    )
    if window is None or window.reference is None:
        return None, None
    reference = window.reference.features.get(alert.subject)
    current = (
        FeatureProfile.objects.filter(window=window, feature=alert.subject)
        .values_list("profile", flat=True)
        .first()
    )
    return reference, current


def alert_get(*, actor, id: int) -> Alert:
    alert = alerts_base().filter(pk=id).first()
    if alert is None or not access.may_view(actor, alert.target.model):
        raise AlertNotFound("No such alert.")
    return alert
