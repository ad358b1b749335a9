"""Plotly figures of the monitoring pages, rendered as JSON data blocks that
``static/js/monitoring-charts.js`` draws: ``layout`` (the house layout and
palette), ``distributions`` (a feature's reference and current distribution),
``dashboard`` (a deployment's dashboard) and ``alerts`` (an alert's page)."""

from monitoring.charts.alerts import alert_figures
from monitoring.charts.dashboard import (
    Timeline,
    dashboard_figures,
    error_budget_text,
    summary_text,
)
from monitoring.charts.distributions import distribution
from monitoring.charts.layout import embed

__all__ = [
    "Timeline",
    "alert_figures",
    "dashboard_figures",
    "distribution",
    "embed",
    "error_budget_text",
    "summary_text",
]
