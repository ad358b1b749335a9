"""Plotly figures of a deployment's LLM dashboard, in the house layout of the
model dashboards (``monitoring.charts.layout``): hour by hour up to a week,
day by day beyond (sums divided per day, so a day's cost per call is its cost
over its calls, not a mean of hours)."""

from __future__ import annotations

import plotly.graph_objects as go

from kernel.numbers import CURRENCY
from monitoring.charts.layout import (
    ACCENT,
    BAD,
    COLOURS,
    OK,
    WARN,
    date_axis,
    empty,
    figure,
)
from monitoring.selectors.dashboard import HOURLY_UP_TO_DAYS


class Buckets:
    """The rows a period is drawn from: its hours, or its days."""

    def __init__(self, period):
        self.hourly = period.days <= HOURLY_UP_TO_DAYS
        self.rows = period.hours if self.hourly else period.daily
        self.x = [
            row["start"].isoformat() if self.hourly else row["day"].isoformat()
            for row in self.rows
        ]

    def series(self, value) -> tuple[list[str], list[float]]:
        points = [(x, value(row)) for x, row in zip(self.x, self.rows, strict=True)]
        kept = [(x, y) for x, y in points if y is not None]
        return [x for x, _ in kept], [y for _, y in kept]

    def axis(self) -> dict:
        return date_axis(hourly=self.hourly)


def _line(x, y, name, colour, *, percent=False, prefix="") -> go.Scatter:
    value = f"{prefix}%{{y:{'.2%' if percent else '.4~g'}}}"
    return go.Scatter(
        x=x,
        y=y,
        mode="lines+markers" if len(x) < 60 else "lines",
        name=name,
        line={"color": colour},
        hovertemplate=f"{value}<extra>{name}</extra>",
    )


def cost(buckets: Buckets, limits) -> go.Figure:
    title = "Cost per call"
    if not buckets.rows:
        return empty(title, "No LLM call was received in this period.")
    x, y = buckets.series(lambda row: row["cost_per_call"])
    lines = []
    if limits.cost_per_call_baseline is not None:
        base = limits.cost_per_call_baseline
        lines = [
            (base, OK, "dot", "baseline"),
            (base * limits.cost_spike_warning, WARN, "dash", "spike warning"),
            (base * limits.cost_spike_critical, BAD, "dash", "spike critical"),
        ]
    return figure(
        [_line(x, y, "cost per call", ACCENT, prefix=CURRENCY)],
        title=title,
        y_title=f"cost per call ({CURRENCY})",
        lines=lines,
        xaxis=buckets.axis(),
    )


def spend(buckets: Buckets) -> go.Figure:
    title = "Calls and cost"
    if not buckets.rows:
        return empty(title, "No LLM call was received in this period.")
    x, calls = buckets.series(lambda row: row["calls"])
    _, total = buckets.series(lambda row: row["cost"])
    return figure(
        [
            go.Bar(
                x=x,
                y=total,
                name="cost",
                marker={"color": ACCENT},
                yaxis="y",
                hovertemplate=f"{CURRENCY}%{{y:.4~g}}<extra>cost</extra>",
            ),
            go.Scatter(
                x=x,
                y=calls,
                name="calls",
                mode="lines",
                line={"color": WARN},
                yaxis="y2",
            ),
        ],
        title=title,
        y_title=f"cost ({CURRENCY})",
        xaxis=buckets.axis(),
        yaxis2={
            "title": {"text": "calls"},
            "overlaying": "y",
            "side": "right",
            "showgrid": False,
            "automargin": True,
            "tickformat": ",d",
            "rangemode": "tozero",
        },
    )


def tokens(buckets: Buckets) -> go.Figure:
    title = "Tokens per call"
    if not buckets.rows:
        return empty(title, "No LLM call was received in this period.")
    traces = []
    for index, (key, name) in enumerate(
        (("input_tokens_per_call", "input"), ("output_tokens_per_call", "output"))
    ):
        x, y = buckets.series(lambda row, key=key: row[key])
        traces.append(_line(x, y, name, COLOURS[index]))
    return figure(traces, title=title, y_title="tokens", xaxis=buckets.axis())


def latency(buckets: Buckets, slo_ms: float | None, percentile: int) -> go.Figure:
    title = "Latency"
    if not buckets.rows:
        return empty(title, "No LLM call was received in this period.")
    traces = []
    for index, q in enumerate((50, 95, 99)):
        x, y = buckets.series(lambda row, q=q: row[f"latency_p{q}"])
        traces.append(_line(x, y, f"p{q}", COLOURS[index]))
    lines = (
        [(slo_ms, BAD, "dash", f"SLO p{percentile} {slo_ms:g} ms")] if slo_ms else []
    )
    return figure(traces, title=title, y_title="ms", lines=lines, xaxis=buckets.axis())


def rates(buckets: Buckets, limits) -> go.Figure:
    title = "Refusals, safety flags and feedback"
    if not buckets.rows:
        return empty(title, "No LLM call was received in this period.")
    traces = []
    for index, (key, name) in enumerate(
        (
            ("refusal_rate", "refused"),
            ("safety_flag_rate", "safety-flagged"),
            ("feedback_rate", "with feedback"),
            ("thumbs_down_share", "thumbs down (of thumbs)"),
        )
    ):
        x, y = buckets.series(lambda row, key=key: row.get(key))
        traces.append(_line(x, y, name, COLOURS[index], percent=True))
    lines = [
        (limits.safety_rate_warning, WARN, "dash", "safety-flag warning"),
        (limits.safety_rate_critical, BAD, "dash", "safety-flag critical"),
    ]
    yaxis = {
        "title": {"text": "share of calls"},
        "tickformat": ".0%",
        "gridcolor": "#e5e7eb",
        "automargin": True,
        "rangemode": "tozero",
    }
    return figure(traces, title=title, lines=lines, xaxis=buckets.axis(), yaxis=yaxis)


def judge(buckets: Buckets, baselines: dict[str, float]) -> go.Figure:
    title = "Judge scores"
    names = sorted({name for row in buckets.rows for name in row.get("judge", {})})
    if not names:
        return empty(title, "No call was judged online in this period.")
    traces, lines = [], []
    for index, name in enumerate(names):
        colour = COLOURS[index % len(COLOURS)]
        label = name.replace("_", " ")
        x, y = buckets.series(
            lambda row, name=name: (row.get("judge", {}).get(name) or {}).get("mean")
        )
        traces.append(_line(x, y, label, colour))
        if name in baselines:
            lines.append((baselines[name], colour, "dash", f"{label} baseline"))
    return figure(
        traces, title=title, y_title="mean score", lines=lines, xaxis=buckets.axis()
    )


def llm_figures(period, baselines: dict[str, float]) -> dict[str, go.Figure]:
    buckets = Buckets(period)
    return {
        "spend": spend(buckets),
        "cost": cost(buckets, period.limits),
        "tokens": tokens(buckets),
        "latency": latency(buckets, period.slo_ms, period.slo_percentile),
        "rates": rates(buckets, period.limits),
        "judge": judge(buckets, baselines),
    }
