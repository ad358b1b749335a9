"""Plotly figures of a deployment's monitoring dashboard.

Each figure is a ``plotly.graph_objects.Figure`` built from the window summaries
a selector read, and rendered as a JSON data block (``<script
type="application/json">``, never executed); ``static/js/monitoring-charts.js``
draws it with plotly.js served from ``static/vendor/plotly/`` (the equivalent of
``to_html(include_plotlyjs=False)`` without its inline script).

Up to a week is shown hour by hour; longer ranges day by day (the worst drift
score, latency and fairness gap of the day, the mean of the other series), so a
page stays small and fast for 90 days of hourly windows. Bucketing is done with
NumPy over the window list once, and each figure gets its whole layout in its
constructor: plotly's ``update_*`` calls re-validate the layout every time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from monitoring.charts.distributions import distribution
from monitoring.charts.layout import BAD, COLOURS, date_axis, empty, figure
from monitoring.selectors import HOURLY_UP_TO_DAYS

DRIFT_WARNING, DRIFT_CRITICAL = 0.1, 0.2


# --- Time buckets ------------------------------------------------------------------


class Timeline:
    """Windows (in start order) grouped into hours or days."""

    def __init__(self, windows: list[dict], days: int):
        self.windows = windows
        self.hourly = days <= HOURLY_UP_TO_DAYS
        fmt = "%Y-%m-%dT%H:00:00Z" if self.hourly else "%Y-%m-%d"
        keys = [window["start"].strftime(fmt) for window in windows]
        self.labels = list(dict.fromkeys(keys))
        if keys:
            changes = [0] + [
                index for index in range(1, len(keys)) if keys[index] != keys[index - 1]
            ]
        else:
            changes = []
        self.offsets = np.asarray(changes, dtype=np.intp)

    def reduce(self, values: np.ndarray, how: str = "mean") -> np.ndarray:
        """One value per bucket (NaN where a bucket has none), along axis -1."""
        if values.shape[-1] == 0:
            return values
        present = ~np.isnan(values)
        if how == "max":
            filled = np.where(present, values, -np.inf)
            result = np.maximum.reduceat(filled, self.offsets, axis=-1)
            return np.where(np.isneginf(result), np.nan, result)
        totals = np.add.reduceat(np.where(present, values, 0.0), self.offsets, axis=-1)
        if how == "sum":
            return totals
        counts = np.add.reduceat(present.astype(float), self.offsets, axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)

    def series(self, value, how: str = "mean") -> tuple[list[str], list[float]]:
        """(x, y) of ``value(window)`` per bucket, skipping empty buckets."""
        raw = np.asarray(
            [_number(value(window)) for window in self.windows], dtype=np.float64
        )
        reduced = self.reduce(raw, how)
        keep = ~np.isnan(reduced)
        x = [label for label, kept in zip(self.labels, keep, strict=True) if kept]
        return x, reduced[keep].tolist()


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def _summary(window, *keys):
    """A number of the checks' summary: ``window[keys[0]][keys[1]]...``."""
    value = window
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _scatter(x, y, name, colour, count_hint: int) -> go.Scatter:
    return go.Scatter(
        x=x,
        y=y,
        mode="lines+markers" if count_hint < 60 else "lines",
        name=name,
        line={"color": colour},
    )


# --- Figures ------------------------------------------------------------------------


def drift_heatmap(timeline: Timeline, features: list[str]) -> go.Figure:
    """Feature by bucket: the worst drift score of each feature in each."""
    title = "Data drift by feature"
    nan = float("nan")
    drifts = [w.get("drift") or {} for w in timeline.windows]
    matrix = np.asarray(
        [[drift.get(name, nan) for drift in drifts] for name in features],
        dtype=np.float64,
    ).reshape(len(features), len(drifts))
    reduced = timeline.reduce(matrix, "max")
    if not features or np.isnan(reduced).all():
        return empty(title, "No checked window in this period yet.")
    top = max(DRIFT_CRITICAL * 1.5, 0.3)
    z = [
        [None if value != value else round(value, 4) for value in row]
        for row in reduced
    ]
    return figure(
        [
            go.Heatmap(
                z=z,
                x=timeline.labels,
                y=features,
                zmin=0,
                zmax=top,
                colorscale=[
                    [0.0, "#f7fbff"],
                    [DRIFT_WARNING / top, "#fde68a"],
                    [DRIFT_CRITICAL / top, "#f97316"],
                    [1.0, "#991b1b"],
                ],
                colorbar={"title": {"text": "score"}, "thickness": 12},
                hovertemplate="%{y}<br>%{x}<br>score %{z:.3f}<extra></extra>",
                xgap=1,
                ygap=1,
            )
        ],
        title=title,
        height=max(240, 24 * len(features) + 90),
        hovermode="closest",
        xaxis=date_axis(hourly=timeline.hourly),
        yaxis={"automargin": True, "type": "category"},
    )


def latency(timeline: Timeline, slo_ms: float | None, percentile: int):
    title = "Latency"
    if not any(w["latency_p50"] is not None for w in timeline.windows):
        return empty(title, "No latency was sent in this period.")
    traces = []
    for index, key in enumerate(("latency_p50", "latency_p95", "latency_p99")):
        x, y = timeline.series(lambda w, key=key: w[key], how="max")
        traces.append(
            _scatter(x, y, key.replace("latency_", ""), COLOURS[index], len(x))
        )
    lines = (
        [(slo_ms, BAD, "dash", f"SLO p{percentile} {slo_ms:g} ms")] if slo_ms else []
    )
    return figure(
        traces,
        title=title,
        y_title="ms",
        lines=lines,
        xaxis=date_axis(hourly=timeline.hourly),
    )


def kpis(timeline: Timeline, targets: list[dict[str, Any]]):
    title = "Business KPIs"
    names = sorted(
        {name for w in timeline.windows for name in (_summary(w, "kpi_means") or {})}
    )
    if not names:
        return empty(title, "No business metric was pushed in this period.")
    traces, lines = [], []
    for index, name in enumerate(names):
        colour = COLOURS[index % len(COLOURS)]
        x, y = timeline.series(lambda w, name=name: _summary(w, "kpi_means", name))
        traces.append(_scatter(x, y, name, colour, len(x)))
        for target in targets:
            threshold = target.get("threshold")
            if target.get("kpi") == name and isinstance(threshold, int | float):
                direction = target.get("direction", "higher")
                lines.append(
                    (threshold, colour, "dash", f"{name} target ({direction})")
                )
    return figure(
        traces, title=title, lines=lines, xaxis=date_axis(hourly=timeline.hourly)
    )


def performance(timeline: Timeline, baseline: dict[str, float]):
    title = "Online performance from joined labels"
    metrics = [
        name
        for name in ("auc", "accuracy", "precision", "recall", "mae", "rmse")
        if any(_summary(w, "performance", name) is not None for w in timeline.windows)
    ]
    if not metrics:
        return empty(title, "No labelled prediction in this period yet.")
    traces, lines = [], []
    for index, name in enumerate(metrics):
        colour = COLOURS[index % len(COLOURS)]
        x, y = timeline.series(lambda w, name=name: _summary(w, "performance", name))
        traces.append(_scatter(x, y, name, colour, len(x)))
        if name in baseline:
            lines.append((baseline[name], colour, "dot", f"{name} on the test set"))
    return figure(
        traces, title=title, lines=lines, xaxis=date_axis(hourly=timeline.hourly)
    )


def fairness(timeline: Timeline, limit: float):
    title = "Fairness: largest gap between groups"
    subjects = sorted(
        {s for w in timeline.windows for s in (_summary(w, "fairness") or {})}
    )
    if not subjects:
        return empty(title, "No segment with enough predictions in this period.")
    traces = []
    for index, subject in enumerate(subjects):
        x, y = timeline.series(
            lambda w, s=subject: _summary(w, "fairness", s, "gap"), how="max"
        )
        name = subject.replace(":", " · ").replace("_", " ")
        traces.append(_scatter(x, y, name, COLOURS[index % len(COLOURS)], len(x)))
    lines = [(limit, BAD, "dash", "policy limit")]
    return figure(
        traces,
        title=title,
        y_title="gap",
        lines=lines,
        xaxis=date_axis(hourly=timeline.hourly),
    )


def fairness_groups(latest: dict | None):
    """The latest checked window's rate per group, per attribute and metric."""
    title = "Rates by segment (latest checked window)"
    if not (latest or {}).get("fairness"):
        return empty(title, "No segment with enough predictions yet.")
    traces = [
        go.Bar(
            x=list(entry.get("groups", {})),
            y=list(entry.get("groups", {}).values()),
            name=subject.replace(":", " · ").replace("_", " "),
        )
        for subject, entry in sorted(latest["fairness"].items())
    ]
    return figure(
        traces, title=title, y_title="rate", barmode="group", hovermode="closest"
    )


def volume(timeline: Timeline):
    title = "Predictions and labels"
    if not timeline.windows:
        return empty(title, "No prediction in this period.")
    x, y = timeline.series(lambda w: w["prediction_count"], how="sum")
    lx, ly = timeline.series(lambda w: w["label_count"], how="sum")
    return figure(
        [
            go.Bar(x=x, y=y, name="predictions", marker_color=COLOURS[0]),
            go.Bar(x=lx, y=ly, name="labels", marker_color=COLOURS[2]),
        ],
        title=title,
        barmode="group",
        xaxis=date_axis(hourly=timeline.hourly),
    )


def dashboard_figures(board, model, *, is_trained_model=True) -> dict[str, go.Figure]:
    """The dashboard's figures. Drift, distributions, labelled performance,
    fairness and volume are drawn from feature rows and labels, which only a
    trained model's serving sends: without ``is_trained_model`` (a prompt or
    an LLM application, whose calls fill its LLM dashboard) only latency and
    KPIs."""
    timeline = Timeline(board.windows, board.days)
    if not is_trained_model:
        return {
            "latency": latency(
                timeline, model.latency_slo_ms, model.latency_slo_percentile
            ),
            "kpis": kpis(timeline, model.online_success_metrics),
        }
    return {
        "drift": drift_heatmap(timeline, board.features),
        "distribution": distribution(board.feature, board.reference, board.current)
        if board.feature
        else empty("Feature distribution", "No reference profile yet."),
        "latency": latency(
            timeline, model.latency_slo_ms, model.latency_slo_percentile
        ),
        "kpis": kpis(timeline, model.online_success_metrics),
        "performance": performance(timeline, board.baseline),
        "fairness": fairness(timeline, model.fairness_max_disparity),
        "segments": fairness_groups(board.latest_summary),
        "volume": volume(timeline),
    }


def error_budget_text(budget) -> str:
    """The latency error budget of the last days, in one sentence."""
    head = (
        f"Last {budget.days} days: p{budget.percentile} ≤ {budget.slo_ms:g} ms lets "
        f"{budget.allowed_share:.2%} of requests be slower; {budget.slow:,} of "
        f"{budget.requests:,} were ({budget.slow_share:.2%})"
    )
    if budget.remaining >= 0:
        return (
            f"{head}: {budget.consumed:.0%} of the error budget used, room for "
            f"{budget.remaining:,} more slow requests."
        )
    return (
        f"{head}: the error budget is spent ({budget.consumed:.0%}), the SLO is "
        "missed for the period."
    )


def summary_text(board) -> dict[str, str]:
    """One sentence per chart, for people who do not see it."""
    summary = board.latest_summary
    if not summary:
        return {}
    drifting = sorted(summary.get("drift_severity", {}).items())
    text = {
        "drift": (
            "In the latest checked window, "
            + ", ".join(f"{name} ({severity})" for name, severity in drifting)
            + " drifted."
            if drifting
            else "No feature drifted in the latest checked window."
        )
    }
    latency_summary = summary.get("latency") or {}
    if latency_summary.get("p99") is not None:
        text["latency"] = (
            f"Latest window: p50 {latency_summary['p50']:.1f} ms, p95 "
            f"{latency_summary['p95']:.1f} ms, p99 {latency_summary['p99']:.1f} ms."
        )
    if board.error_budget is not None:
        text["error_budget"] = error_budget_text(board.error_budget)
    return text
