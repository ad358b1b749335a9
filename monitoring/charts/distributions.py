"""A feature's distribution, reference against current: density on the
reference bins for numeric features, shares per category for categorical ones
(the tail of rare categories as one bar)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from gatehouse_client.profile import (
    CategoricalProfile,
    NumericProfile,
    profile_from_dict,
)

from monitoring.charts.layout import ACCENT, REFERENCE_GREY, empty, figure
from monitoring.statistics import numeric_histograms

OTHER_LABEL = "other categories"


def distribution(
    feature: str,
    reference: dict | None,
    current: list[dict],
    *,
    current_name: str = "last 24 hours",
) -> go.Figure:
    title = f"{feature}: reference and the {current_name}"
    if reference is None:
        return empty(title, "No reference profile for this version.")
    reference_profile = profile_from_dict(reference)
    current_profile = None
    for data in current:
        if isinstance(reference_profile, NumericProfile):
            profile = NumericProfile.from_dict(data, bins=reference_profile.bins)
        else:
            profile = CategoricalProfile.from_dict(data)
        current_profile = (
            profile if current_profile is None else current_profile.merge(profile)
        )
    if current_profile is None or current_profile.count == 0:
        return empty(title, f"No values of {feature} in the {current_name}.")
    if isinstance(reference_profile, NumericProfile):
        return _numeric(title, reference_profile, current_profile, current_name)
    return _categorical(title, reference_profile, current_profile, current_name)


def _categorical(title, reference, current, current_name) -> go.Figure:
    labels = [*reference.categories, OTHER_LABEL]
    ref_counts = np.append(reference.counts, reference.other)
    cur_counts = np.append(current.counts, current.other)
    ref_share = ref_counts / max(float(ref_counts.sum()), 1.0)
    cur_share = cur_counts / max(float(cur_counts.sum()), 1.0)
    keep = (ref_share + cur_share) > 0
    labels = [label for label, kept in zip(labels, keep, strict=True) if kept]
    return figure(
        [
            go.Bar(
                x=labels,
                y=ref_share[keep].round(5),
                name="reference",
                marker_color=REFERENCE_GREY,
                hovertemplate="%{x}: %{y:.1%}<extra>reference</extra>",
            ),
            go.Bar(
                x=labels,
                y=cur_share[keep].round(5),
                name=current_name,
                marker_color=ACCENT,
                hovertemplate="%{x}: %{y:.1%}<extra>" + current_name + "</extra>",
            ),
        ],
        title=title,
        y_title="share of values",
        barmode="group",
        bargap=0.2,
        hovermode="closest",
        xaxis={"type": "category", "automargin": True, "tickangle": -30},
        yaxis={
            "title": {"text": "share of values"},
            "gridcolor": "#e5e7eb",
            "tickformat": ".0%",
            "automargin": True,
        },
    )


def _numeric(title, reference, current, current_name) -> go.Figure:
    """Density on the reference bins, one bar each for the values below and
    above the reference range. Densities are per reference standard deviation
    (a normal feature peaks near 0.4), so the axis reads in plain numbers
    whatever the feature's unit."""
    ref_counts, cur_counts = numeric_histograms(reference, current)
    edges = np.asarray(reference.bins.edges, dtype=np.float64)
    widths = np.diff(edges)
    typical = float(np.median(widths)) if widths.size else 1.0
    typical = typical if typical > 0 else 1.0
    # The values below and above the reference range are drawn over the range
    # they actually span (so 10 % beyond the maximum is not a needle).
    smallest = min(v for v in (reference.minimum, current.minimum) if v is not None)
    largest = max(v for v in (reference.maximum, current.maximum) if v is not None)
    below = max(edges[0] - smallest, typical)
    above = max(largest - edges[-1], typical)
    lows = np.concatenate(([edges[0] - below], edges[:-1], [edges[-1]]))
    widths = np.concatenate(([below], widths, [above]))
    centres = lows + widths / 2
    scale = reference.std if reference.std else 1.0
    unit = "per reference std" if reference.std else "per unit"
    traces = []
    for counts, name, colour, opacity in (
        (ref_counts, "reference", REFERENCE_GREY, 0.85),
        (cur_counts, current_name, ACCENT, 0.55),
    ):
        share = np.asarray(counts, dtype=np.float64) / max(float(np.sum(counts)), 1)
        traces.append(
            go.Bar(
                x=centres,
                y=share / widths * scale,
                width=widths,
                name=name,
                marker_color=colour,
                opacity=opacity,
                hovertemplate="%{x:,.4~g}: %{y:.3~g} "
                + unit
                + "<extra>"
                + name
                + "</extra>",
            )
        )
    return figure(
        traces,
        title=title,
        y_title=f"density ({unit})",
        barmode="overlay",
        bargap=0,
        hovermode="closest",
        xaxis={
            "gridcolor": "#f1f5f9",
            "automargin": True,
            "tickformat": ",~g",
            "exponentformat": "power",
            "nticks": 6,
        },
    )
