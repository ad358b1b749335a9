"""The charts of an alert's page: the statistic it is about, window by window,
against its thresholds, and the feature's distribution (reference against the
alert's latest window) when the alert is about a distribution."""

from __future__ import annotations

import plotly.graph_objects as go

from monitoring.charts.distributions import distribution
from monitoring.charts.layout import ACCENT, BAD, WARN, date_axis, empty, figure
from monitoring.evidence import METHODS, score_key

SEVERITY_COLOURS = {"none": ACCENT, "warning": WARN, "critical": BAD}


def history(alert, points: list[dict]) -> go.Figure:
    """The check's score in each checked window, with the thresholds of the
    latest verdict."""
    details = alert.details or {}
    method = details.get("method", "")
    name = METHODS.get(method, "") or "value"
    title = f"{alert.subject or alert.get_kind_display()}: {name} by window"
    scored = [point for point in points if point["score"] is not None]
    if not scored:
        return empty(title, "No window of this check has a value yet.")
    is_pvalue = score_key(method) == "p_value"
    lines = []
    if details.get("threshold") is not None:
        lines.append((details["threshold"], WARN, "dash", "warning threshold"))
    if details.get("critical_threshold") is not None:
        lines.append((details["critical_threshold"], BAD, "dot", "critical threshold"))
    trace = go.Scatter(
        x=[point["start"].isoformat() for point in scored],
        y=[point["score"] for point in scored],
        mode="lines+markers",
        name=name,
        line={"color": ACCENT, "width": 1.5},
        marker={
            "size": 7,
            "color": [SEVERITY_COLOURS.get(p["severity"], ACCENT) for p in scored],
        },
        hovertemplate="%{x}<br>%{y:.4~g}<extra></extra>",
    )
    yaxis = {
        "title": {"text": name},
        "gridcolor": "#e5e7eb",
        "automargin": True,
        "exponentformat": "power",
    }
    if is_pvalue:
        yaxis["type"] = "log"
    return figure(
        [trace],
        title=title,
        lines=lines,
        hovermode="closest",
        xaxis=date_axis(hourly=True),
        yaxis=yaxis,
    )


def alert_figures(alert, points, reference, current) -> dict[str, go.Figure]:
    figures = {"history": history(alert, points)}
    if reference is not None:
        figures["distribution"] = distribution(
            alert.subject,
            reference,
            [current] if current else [],
            current_name="alert's latest window",
        )
    return figures
