"""Reads of monitoring, limited to what the actor may see, in a fixed number of
queries whatever the number of windows, features or alerts: ``alerts`` (alerts
and a batch's status), ``dashboard`` (windows, dashboards, the overview) and
``review`` (the human review queue)."""

from monitoring.selectors.alerts import (
    alert_distribution,
    alert_filter_choices,
    alert_get,
    alert_history,
    alert_list,
    alerts_base,
    batch_get,
)
from monitoring.selectors.dashboard import (
    ALERTS_SHOWN,
    DASHBOARD_DAYS,
    DISTRIBUTION_HOURS,
    ERROR_BUDGET_DAYS,
    HOURLY_UP_TO_DAYS,
    Dashboard,
    ErrorBudget,
    TargetRow,
    dashboard,
    error_budget,
    overview,
    target_of,
    window_list,
)
from monitoring.selectors.review import (
    review_item_get,
    review_queue,
    review_queue_count,
    review_queue_list,
)

__all__ = [
    "ALERTS_SHOWN",
    "DASHBOARD_DAYS",
    "DISTRIBUTION_HOURS",
    "ERROR_BUDGET_DAYS",
    "HOURLY_UP_TO_DAYS",
    "Dashboard",
    "ErrorBudget",
    "TargetRow",
    "alert_distribution",
    "alert_filter_choices",
    "alert_get",
    "alert_history",
    "alert_list",
    "alerts_base",
    "batch_get",
    "dashboard",
    "error_budget",
    "overview",
    "review_item_get",
    "review_queue",
    "review_queue_count",
    "review_queue_list",
    "target_of",
    "window_list",
]
