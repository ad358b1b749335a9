"""The house layout of every monitoring chart: the portal's palette, axes
people can read, reference lines named in the legend (never a note drawn over
the data), and the JSON data block a page embeds."""

from __future__ import annotations

import plotly.graph_objects as go
from django.utils.html import format_html
from django.utils.safestring import SafeString

FONT = {"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12}
# The portal's palette (static/css/portal.css): accent, warn, ok, bad, ink, muted.
ACCENT = "#1f5fbf"
WARN = "#9a6400"
OK = "#1e7b45"
BAD = "#b3261e"
INK = "#1c2430"
MUTED = "#5b6675"
REFERENCE_GREY = "#aab4c3"
COLOURS = [ACCENT, WARN, OK, BAD, INK, MUTED]
GRID = "#e5e7eb"

_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def embed(figure: go.Figure, element_id: str) -> SafeString:
    """The figure as a JSON data block, escaped like Django's ``json_script``."""
    text = figure.to_json().translate(_JSON_ESCAPES)
    return format_html(
        '<script type="application/json" id="{}">{}</script>',
        element_id,
        SafeString(text),
    )


def date_axis(*, hourly: bool) -> dict:
    """An x axis of dates whose labels neither overlap nor get clipped: plotly
    spaces at most six ticks, on two short lines for hours."""
    return {
        "type": "date",
        "gridcolor": "#f1f5f9",
        "nticks": 6,
        "tickangle": 0,
        "automargin": True,
        "tickformat": "%H:%M\n%b %-d" if hourly else "%b %-d",
        "hoverformat": "%Y-%m-%d %H:%M UTC" if hourly else "%Y-%m-%d",
    }


def figure(
    data,
    *,
    title: str = "",
    y_title: str = "",
    height: int = 300,
    lines: list[tuple[float, str, str, str]] = (),
    **layout,
) -> go.Figure:
    """A figure with the house layout. ``lines`` are horizontal reference lines
    (value, colour, dash, label), each named in the legend. ``title`` is kept in
    the figure's metadata for people reading the data block; pages show it in
    the card's heading, not over the plot."""
    shapes = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": value,
            "y1": value,
            "line": {"color": colour, "dash": dash, "width": 1.5},
            "showlegend": True,
            "name": label,
        }
        for value, colour, dash, label in lines
    ]
    base = {
        "meta": {"title": title},
        "font": FONT,
        "height": height,
        "colorway": COLOURS,
        "margin": {"l": 56, "r": 16, "t": 36, "b": 36},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1.02,
            "yanchor": "bottom",
            "font": {"size": 11},
        },
        "hovermode": "x unified",
        "yaxis": {
            "title": {"text": y_title},
            "gridcolor": GRID,
            "zeroline": False,
            "automargin": True,
            # No SI prefixes ("25μ", "2.5m"): plain numbers or powers of ten.
            "exponentformat": "power",
            "tickformat": "~g",
        },
        "xaxis": {"gridcolor": "#f1f5f9", "automargin": True},
        "shapes": shapes,
    }
    base.update(layout)
    return go.Figure(data=data, layout=base)


def _wrapped(message: str, width: int = 34) -> str:
    """The message on lines of at most ``width`` characters (plotly does not
    wrap annotations, and a phone's chart is narrow)."""
    lines, line = [], ""
    for word in message.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)


def empty(title: str, message: str) -> go.Figure:
    return figure(
        [],
        title=title,
        height=180,
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {
                "text": _wrapped(message),
                "showarrow": False,
                "x": 0.5,
                "y": 0.5,
                "xref": "paper",
                "yref": "paper",
                "font": {"color": MUTED, "size": 13},
            }
        ],
    )
