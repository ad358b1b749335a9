"""Fairness disparities between the groups of an evaluation's slices: which
group is best and worst on each metric, and by how much. Pure functions, shared
by the checklist, the API output and the pages."""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Disparity:
    attribute: str
    metric: str
    best_group: str
    worst_group: str
    best: float
    worst: float
    gap: float


# Slice metrics where a lower value is better, when the model does not say.
_LOWER_IS_BETTER = re.compile(
    r"(error|loss|brier|rmse|mae|mse|fpr|fnr|false_positive|false_negative|"
    r"log_loss|calibration_gap)",
    re.IGNORECASE,
)


def _lower_is_better(metric: str, directions: dict[str, str] | None) -> bool:
    if directions and metric in directions:
        return directions[metric] == "lower"
    return bool(_LOWER_IS_BETTER.search(metric))


def metric_directions(model) -> dict[str, str]:
    """Whether each of the model's offline success metrics is better higher or
    lower, as its owners declared it."""
    return {m["metric"]: m["direction"] for m in model.offline_success_metrics}


def fairness_disparities(
    slices, directions: dict[str, str] | None = None
) -> list[Disparity]:
    """For each attribute and metric, the gap between the best and worst group.

    Only metrics present for every non-empty group of the attribute are compared.
    ``directions`` maps metric names to "higher"/"lower" (is better); unnamed
    metrics such as error rates are recognised by name. Sorted worst first.
    """
    by_attribute: dict[str, list] = {}
    for entry in slices:
        if entry.size > 0:
            by_attribute.setdefault(entry.attribute, []).append(entry)
    result = []
    for attribute, groups in by_attribute.items():
        if len(groups) < 2:
            continue
        shared = set.intersection(*(set(group.metrics) for group in groups))
        for metric in sorted(shared):
            ranked = sorted(groups, key=lambda group: group.metrics[metric])
            low, high = ranked[0], ranked[-1]
            best, worst = (
                (low, high) if _lower_is_better(metric, directions) else (high, low)
            )
            result.append(
                Disparity(
                    attribute=attribute,
                    metric=metric,
                    best_group=best.group,
                    worst_group=worst.group,
                    best=best.metrics[metric],
                    worst=worst.metrics[metric],
                    # Rounded so that 0.56 - 0.51 is not judged above 0.05.
                    gap=round(high.metrics[metric] - low.metrics[metric], 12),
                )
            )
    return sorted(result, key=lambda disparity: -disparity.gap)
