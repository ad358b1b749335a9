"""Reads of a deployment's monitoring: its windows (API), its dashboard and the
overview of monitored versions, in a fixed number of queries whatever the
number of windows, features or alerts.

Dashboards read the small per-window numbers (``MonitoringWindow`` columns and
``summary``), never whole profiles, except the distribution of the one feature
a person picked (a day of its profiles, and its reference).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from approvals.selectors import deployment_get, deployment_live_list
from models_registry import access as registry_access
from models_registry.selectors import model_get
from monitoring.models import (
    Alert,
    AlertStatus,
    Check,
    CheckResult,
    FeatureProfile,
    MonitoringDay,
    MonitoringTarget,
    MonitoringWindow,
    ReferenceProfile,
)
from monitoring.models.windows import FED_BY_LABELS, fed_by
from monitoring.selectors.alerts import RESOLVED_LAST, alerts_base
from monitoring.services.targets import environment_by_name

if TYPE_CHECKING:
    from approvals.models import Deployment

DASHBOARD_DAYS = (1, 7, 30, 90)
# Up to this many days the dashboard is hourly; beyond, daily (monitoring.charts).
HOURLY_UP_TO_DAYS = 7
DISTRIBUTION_HOURS = 24
ALERTS_SHOWN = 50
# The latency error budget is read over this many days (an SLO's usual period).
ERROR_BUDGET_DAYS = 30


def window_list(
    *,
    actor,
    model_name: str,
    environment_name: str,
    version: int | None = None,
    hours: int = 24 * 7,
    now: datetime | None = None,
) -> QuerySet:
    """Window summaries of a model in an environment (one version, or all)."""
    model = model_get(actor=actor, name=model_name)
    environment = environment_by_name(environment_name)
    now = now or timezone.now()
    windows = MonitoringWindow.objects.filter(
        target__model=model,
        target__environment=environment,
        start__gte=now - timedelta(hours=hours),
    )
    if version is not None:
        windows = windows.filter(target__version__version=version)
    results = CheckResult.objects.only(
        "window_id",
        "kind",
        "subject",
        "status",
        "severity",
        "score",
        "threshold",
        "details",
    ).order_by("kind", "subject")
    return (
        windows.prefetch_related(Prefetch("check_results", queryset=results))
        .only(
            "start",
            "prediction_count",
            "profile_rows",
            "label_count",
            "latency_p50",
            "latency_p95",
            "latency_p99",
            "score_mean",
            "checked_at",
            "drift",
            "summary",
        )
        .order_by("start", "pk")
    )


def target_of(deployment: Deployment) -> MonitoringTarget | None:
    return (
        MonitoringTarget.objects.filter(
            version_id=deployment.version_id, environment_id=deployment.environment_id
        )
        .select_related("model", "version", "environment")
        .first()
    )


@dataclass(frozen=True)
class ErrorBudget:
    """The latency SLO's error budget over the last ERROR_BUDGET_DAYS, from the
    checked windows (each judged against the SLO in force when it was checked)."""

    days: int
    percentile: int
    slo_ms: float
    requests: int
    slow: int

    @property
    def allowed_share(self) -> float:
        """The share of requests the SLO lets be slower (1 % for p99)."""
        return 1 - self.percentile / 100

    @property
    def slow_share(self) -> float:
        return self.slow / self.requests if self.requests else 0.0

    @property
    def consumed(self) -> float:
        """Share of the budget used; above 1 the SLO is missed for the period."""
        return self.slow_share / self.allowed_share if self.allowed_share else 0.0

    @property
    def remaining(self) -> int:
        """How many more slow requests the period's budget allows (may be < 0)."""
        return round(self.allowed_share * self.requests) - self.slow


def error_budget(
    target: MonitoringTarget, *, now: datetime | None = None
) -> ErrorBudget | None:
    """The latency error budget of a target's last ERROR_BUDGET_DAYS, or None
    when no checked window judged latency against an SLO (one query)."""
    now = now or timezone.now()
    checked = MonitoringWindow.objects.filter(
        target=target,
        start__gte=now - timedelta(days=ERROR_BUDGET_DAYS),
        checked_at__isnull=False,
    ).values_list(KeyTransform("latency", "summary"), flat=True)
    requests = slow = 0
    percentile, slo = None, None
    for latency in checked:
        if not latency or latency.get("slow_share") is None:
            continue
        count = int(latency.get("count") or 0)
        requests += count
        slow += round(latency["slow_share"] * count)
        percentile, slo = latency["percentile"], latency["slo"]
    if not requests:
        return None
    return ErrorBudget(ERROR_BUDGET_DAYS, percentile, slo, requests, slow)


@dataclass
class Dashboard:
    deployment: Deployment
    target: MonitoringTarget | None
    days: int
    since: datetime
    windows: list[dict[str, Any]] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    feature: str | None = None
    reference: dict | None = None
    reference_source: str | None = None
    current: list[dict] = field(default_factory=list)
    latest_summary: dict | None = None
    latest_drift: dict | None = None
    alerts: list[Alert] = field(default_factory=list)
    open_alerts: int = 0
    baseline: dict[str, float] = field(default_factory=dict)
    error_budget: ErrorBudget | None = None
    # The window whose statistics the table under the heatmap shows (the
    # latest checked one unless a person picked another), and its results.
    statistics_window: datetime | None = None
    statistics: list[CheckResult] = field(default_factory=list)
    checked_windows: list[tuple[int, datetime]] = field(default_factory=list)
    # How that window was fed ("rows", "profiles", "both"; windows.fed_by).
    statistics_fed: str | None = None

    @property
    def statistics_fed_label(self) -> str | None:
        return FED_BY_LABELS.get(self.statistics_fed or "")

    @property
    def feeds_text(self) -> str:
        """How the period's hourly windows were fed, in a sentence ("" for
        day points, which do not keep it)."""
        feeds = Counter(
            fed_by(point["prediction_count"], point["profile_rows"])
            for point in self.windows
            if "profile_rows" in point
        )
        feeds.pop(None, None)
        if not feeds:
            return ""
        parts = [
            f"{feeds[key]} by {FED_BY_LABELS[key]}"
            for key in ("rows", "profiles", "both")
            if feeds[key]
        ]
        total = sum(feeds.values())
        return f"Windows fed ({total}): " + ", ".join(parts) + "."


def dashboard(
    *,
    actor,
    deployment_id: int,
    days: int = 7,
    feature: str | None = None,
    window_id: int | None = None,
    now: datetime | None = None,
) -> Dashboard:
    """Everything the monitoring page of a deployment shows."""
    from monitoring.services.checks import baseline_metrics

    deployment = deployment_get(actor=actor, id=deployment_id)
    now = now or timezone.now()
    days = days if days in DASHBOARD_DAYS else 7
    since = now - timedelta(days=days)
    target = target_of(deployment)
    board = Dashboard(deployment=deployment, target=target, days=days, since=since)
    if target is None:
        return board
    if days <= HOURLY_UP_TO_DAYS:
        board.windows = _hourly_points(target, since)
    else:
        board.windows = _daily_points(target, since)
    latest = (
        MonitoringWindow.objects.filter(target=target, checked_at__isnull=False)
        .order_by("-start")
        .values_list("pk", "start", "summary", "drift")
        .first()
    )
    latest_id, latest_start, board.latest_summary, board.latest_drift = latest or (
        None,
        None,
        None,
        None,
    )
    _add_statistics(board, target, window_id, (latest_id, latest_start))
    _add_distribution(board, target, feature, now)
    board.alerts = list(
        alerts_base()
        .filter(target=target)
        .order_by(RESOLVED_LAST, "-opened_at", "-pk")[:ALERTS_SHOWN]
    )
    board.open_alerts = sum(a.status != AlertStatus.RESOLVED for a in board.alerts)
    board.baseline = baseline_metrics(target.version_id)
    board.error_budget = error_budget(target, now=now)
    return board


def _add_statistics(
    board: Dashboard,
    target: MonitoringTarget,
    window_id: int | None,
    latest: tuple[int | None, datetime | None],
) -> None:
    """The drift results of one checked window: the one asked for when it is
    a checked window of this period, else the latest checked one."""
    board.checked_windows = [
        (point["pk"], point["start"])
        for point in reversed(board.windows)
        if point.get("pk") is not None and point.get("checked_at") is not None
    ]
    chosen = dict(board.checked_windows)
    pk, start = latest
    if window_id in chosen:
        pk, start = window_id, chosen[window_id]
    if pk is None:
        return
    board.statistics_window = start
    point = next((p for p in board.windows if p.get("pk") == pk), None)
    if point is not None and "profile_rows" in point:
        board.statistics_fed = fed_by(point["prediction_count"], point["profile_rows"])
    board.statistics = list(
        CheckResult.objects.filter(
            window_id=pk, kind__in=(Check.DATA_DRIFT, Check.PREDICTION_DRIFT)
        ).order_by("kind", "subject")
    )


def _hourly_points(target: MonitoringTarget, since: datetime) -> list[dict[str, Any]]:
    """The dashboard's points for short periods: one per window."""
    return list(
        MonitoringWindow.objects.filter(target=target, start__gte=since)
        .order_by("start")
        .values(
            "pk",
            "start",
            "prediction_count",
            "profile_rows",
            "label_count",
            "latency_p50",
            "latency_p95",
            "latency_p99",
            "drift",
            "checked_at",
            # The checks' numbers ("kpi_means": the window has a "kpis"
            # column of raw sums already).
            performance=KeyTransform("performance", "summary"),
            kpi_means=KeyTransform("kpis", "summary"),
            fairness=KeyTransform("fairness", "summary"),
        )
    )


def _daily_points(target: MonitoringTarget, since: datetime) -> list[dict[str, Any]]:
    """The dashboard's points for longer periods, day by day from the roll-ups
    the checks keep: 90 rows, not 2,160 windows of 50 drift scores each."""
    return [
        {
            "pk": None,
            "start": datetime.combine(day, time.min, tzinfo=UTC),
            "drift": drift,
            "prediction_count": summary.get("prediction_count", 0),
            "label_count": summary.get("label_count", 0),
            "latency_p50": summary.get("latency_p50"),
            "latency_p95": summary.get("latency_p95"),
            "latency_p99": summary.get("latency_p99"),
            "performance": summary.get("performance"),
            "kpi_means": summary.get("kpi_means"),
            "fairness": summary.get("fairness"),
        }
        for day, drift, summary in MonitoringDay.objects.filter(
            target=target, day__gte=since.date()
        )
        .order_by("day")
        .values_list("day", "drift", "summary")
    ]


def _add_distribution(
    board: Dashboard, target: MonitoringTarget, feature: str | None, now: datetime
) -> None:
    """The features of the active reference, and the distribution of the one
    asked for (or the most drifted one): its reference profile and its profiles
    of the last DISTRIBUTION_HOURS."""
    reference = (
        ReferenceProfile.objects.filter(version_id=target.version_id)
        .order_by("-created_at", "-pk")
        .only("pk", "source", "features", "score")
        .first()
    )
    if reference is not None:
        board.features = list(reference.features)
        board.reference_source = reference.source
    board.feature = feature if feature in board.features else None
    if board.feature is None and board.features:
        board.feature = _most_drifted(board.latest_drift) or board.features[0]
    if board.feature is not None:
        board.reference = reference.features[board.feature]
        board.current = list(
            FeatureProfile.objects.filter(
                window__target=target,
                window__start__gte=now - timedelta(hours=DISTRIBUTION_HOURS),
                feature=board.feature,
            ).values_list("profile", flat=True)
        )


def _most_drifted(scores: dict | None) -> str | None:
    if scores:
        return max(scores, key=lambda name: scores[name] or 0)
    return None


@dataclass
class TargetRow:
    target: MonitoringTarget
    deployment: Deployment | None
    open_alerts: int
    last_window: datetime | None


def overview(*, actor) -> list[TargetRow]:
    """Every monitored version the actor may see, live ones first."""
    visible = registry_access.models_for(actor).values("pk")
    last_window = MonitoringWindow.objects.filter(target=OuterRef("pk")).order_by(
        "-start"
    )
    open_alerts = (
        Alert.objects.filter(target=OuterRef("pk"))
        .exclude(status=AlertStatus.RESOLVED)
        .order_by()
        .values("target")
        .annotate(count=Count("pk"))
        .values("count")
    )
    targets = list(
        MonitoringTarget.objects.filter(model__in=visible)
        .select_related("model", "version", "environment")
        .annotate(
            open_alerts=Coalesce(Subquery(open_alerts), 0),
            last_window=Subquery(last_window.values("start")[:1]),
        )
        .order_by("model__name", "environment__order", "-version__version")
    )
    live = {
        (d.version_id, d.environment_id): d
        for d in deployment_live_list(version_ids=[t.version_id for t in targets])
    }
    rows = [
        TargetRow(
            target=target,
            deployment=live.get((target.version_id, target.environment_id)),
            open_alerts=target.open_alerts,
            last_window=target.last_window,
        )
        for target in targets
    ]
    return sorted(rows, key=lambda row: row.deployment is None)
