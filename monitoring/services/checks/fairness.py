"""The online fairness check: gaps between the groups of each fairness
attribute over the last hours, failing only when significant."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings

from monitoring.models import Check, MonitoringWindow
from monitoring.services.checks.verdicts import (
    CRITICAL,
    INSUFFICIENT,
    OK,
    WARNING,
    Verdict,
)
from monitoring.statistics import adjust_pvalues
from monitoring.windows import merge_segments

FAIRNESS_ALPHA = 0.05


def _gap_p_value(successes: tuple[int, int], totals: tuple[int, int]) -> float:
    """Two-sided p-value of the two-proportion z-test (pooled variance)."""
    (x1, x2), (n1, n2) = successes, totals
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 1.0 if x1 / n1 == x2 / n2 else 0.0
    z = abs(x1 / n1 - x2 / n2) / math.sqrt(variance)
    return math.erfc(z / math.sqrt(2))


# metric: (numerator, denominator) counts of a group's rate.
_RATES = {
    "positive_rate": ("positive", "count"),
    "accuracy": ("correct", "labelled"),
    "true_positive_rate": ("true_positive", "label_positive"),
}


def _recent_segments(window) -> dict:
    """The segment counts of the window and the windows of the hours before it
    (``MONITORING_FAIRNESS_HOURS`` in all): a disparity is a matter of days,
    and an hour of a small group is mostly noise."""
    hours = settings.MONITORING_FAIRNESS_HOURS
    merged: dict = {}
    earlier = MonitoringWindow.objects.filter(
        target_id=window.target_id,
        start__gt=window.start - timedelta(hours=hours),
        start__lt=window.start,
    ).values_list("segments", flat=True)
    for segments in [*earlier, window.segments]:
        merged = merge_segments(merged, segments or {})
    return merged


def fairness_verdicts(window, model, config) -> tuple[list[Verdict], dict]:
    """Largest gap of each rate between the groups of each fairness attribute.

    A gap above ``fairness_max_disparity`` fails only when it is significant
    (two-proportion z-test between the best and the worst group, Holm-corrected
    over the gaps tested in the window, p < 0.05): an hour of a small group is
    noisy, and noise is not a disparity.
    """
    verdicts, summary = [], {}
    tested: list[tuple[Verdict, float]] = []
    limit = model.fairness_max_disparity
    minimum = settings.MONITORING_MIN_COUNT
    segments = _recent_segments(window)
    for attribute in model.fairness_attributes:
        groups = segments.get(attribute)
        if not groups:
            continue
        rates: dict[str, dict[str, tuple[int, int]]] = {}
        maes: dict[str, float] = {}
        for group, counts in groups.items():
            for metric, (numerator, denominator) in _RATES.items():
                total = counts.get(denominator, 0)
                if total >= minimum and numerator in counts:
                    rates.setdefault(metric, {})[group] = (counts[numerator], total)
            labelled = counts.get("labelled", 0)
            if labelled >= minimum and "abs_error_sum" in counts:
                maes[group] = counts["abs_error_sum"] / labelled
        measured = {
            metric: {group: x / n for group, (x, n) in by_group.items()}
            for metric, by_group in rates.items()
        }
        if maes:
            measured["mae"] = maes
        for metric, by_group in measured.items():
            subject = f"{attribute}:{metric}"
            if len(by_group) < 2:
                verdicts.append(Verdict(Check.FAIRNESS, subject, INSUFFICIENT))
                continue
            worst = min(by_group, key=by_group.get)
            best = max(by_group, key=by_group.get)
            gap = round(by_group[best] - by_group[worst], 12)
            summary[subject] = {"gap": gap, "groups": by_group}
            p_value = None
            if metric in rates:
                pair = rates[metric]
                p_value = _gap_p_value(
                    (pair[best][0], pair[worst][0]), (pair[best][1], pair[worst][1])
                )
            verdict = Verdict(
                check=Check.FAIRNESS,
                subject=subject,
                status=OK,
                score=gap,
                threshold=limit,
                details={
                    "groups": by_group,
                    "best": best,
                    "worst": worst,
                    "p_value": p_value,
                },
            )
            verdicts.append(verdict)
            tested.append((verdict, 0.0 if p_value is None else p_value))
    corrected = adjust_pvalues([p for _, p in tested], "holm")
    for (verdict, _), adjusted in zip(tested, corrected, strict=True):
        if verdict.details["p_value"] is not None:
            verdict.details["corrected_p_value"] = adjusted
        if adjusted >= FAIRNESS_ALPHA:
            continue
        if verdict.score > 2 * limit:
            verdict.severity = CRITICAL
        elif verdict.score > limit:
            verdict.severity = WARNING
    return verdicts, summary
