"""What the checks computed, as people read it: labelled statistics in a fixed
order, for the dashboard's statistics tables and an alert's evidence.

Checks store their numbers under short keys (``ks_pvalue``, ``chi2_dof``, ...;
see ``monitoring.statistics``); pages never show those keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kernel.numbers import money
from monitoring.models import Check

# The key a cost check's score and thresholds are formatted under.
COST_PER_CALL = "cost_per_call"

# Every statistic of the drift checks, in the order the tables show them.
NUMERIC_STATISTICS = {
    "wasserstein": "Wasserstein / reference std",
    "wasserstein_distance": "Wasserstein distance",
    "reference_std": "Reference std",
    "ks": "KS statistic",
    "ks_error_bound": "KS error bound",
    "ks_pvalue": "KS p-value",
    "jensenshannon": "Jensen-Shannon distance",
    "psi": "PSI",
    "mean_difference": "Mean difference",
    "out_of_range_rate": "Share outside the reference range",
}
CATEGORICAL_STATISTICS = {
    "chi2": "Chi-square",
    "chi2_dof": "Chi-square degrees of freedom",
    "chi2_pvalue": "Chi-square p-value",
    "jensenshannon": "Jensen-Shannon distance",
    "psi": "PSI",
    "unseen_share": "Share in categories the reference never had",
}
METHODS = {
    **NUMERIC_STATISTICS,
    "ks": "KS p-value (corrected)",
    "chi2": "Chi-square p-value (corrected)",
}
KINDS = {"numeric": "Numeric", "categorical": "Categorical"}
STATUSES = {
    "ok": "Checked",
    "insufficient_data": "Too few values",
    "no_reference": "No reference",
    "no_baseline": "No baseline",
    "no_data": "No data",
}
SEVERITIES = {"none": "No drift", "warning": "Warning", "critical": "Critical"}

# The other numbers checks keep, by key (anything else is left out of pages).
DETAILS = {
    "p_value": "p-value",
    "corrected_p_value": "p-value after the multiple-testing correction",
    "reference_count": "Reference values",
    "current_count": "Values in the window",
    "current_missing": "Missing values in the window",
    "missing_rate": "Missing share in the window",
    "training_missing_rate": "Missing share in training",
    "serving_missing_rate": "Missing share in serving",
    "missing_rate_difference": "Missing share difference (serving - training)",
    "range_violation_rate": "Share outside the training range or vocabulary",
    "drift_score": "Drift score",
    "current": "Online value",
    "baseline": "Test evaluation",
    "offline_threshold": "Offline success threshold",
    "drop": "Drop from the test evaluation",
    "tolerance": "Tolerated drop",
    "labelled": "Labelled predictions",
    "percentile": "Percentile",
    "slo_ms": "SLO (ms)",
    "slow_share": "Share slower than the SLO",
    "error_budget": "Error budget (share allowed slower)",
    "burn_rate": "Error budget burn rate",
    "count": "Values",
    "value": "Value",
    "target": "Target",
    "direction": "Better when",
    "min": "Lowest",
    "max": "Highest",
    "relative_miss": "Miss relative to the target",
    "gap": "Gap between groups",
    "best": "Best group",
    "worst": "Worst group",
    "limit": "Policy limit",
    # LLM calls (monitoring.llm.checks).
    "calls": "Calls in the window",
    "cost": "Cost in the window",
    "baseline_cost_per_call": "Baseline cost per call",
    "baseline_source": "Baseline from",
    "ratio": "Cost per call over the baseline",
    "spike_warning": "Warning ratio",
    "spike_critical": "Critical ratio",
    "judged": "Judged calls",
    "flagged": "Calls with a safety flag",
    "critical_rate": "Critical share of flagged calls",
}
_SHARES = {
    "missing_rate",
    "training_missing_rate",
    "serving_missing_rate",
    "missing_rate_difference",
    "range_violation_rate",
    "slow_share",
    "error_budget",
    "out_of_range_rate",
    "unseen_share",
    "relative_miss",
}
# Amounts of US dollars (LLM calls' cost, see monitoring.llm.checks).
_MONEY = {"cost", "baseline_cost_per_call", COST_PER_CALL}
_COUNTS = {
    "reference_count",
    "current_count",
    "current_missing",
    "labelled",
    "count",
    "chi2_dof",
}


def score_key(method: str) -> str:
    """The key that formats a check's score: p-value methods decide on one."""
    return "p_value" if method in ("ks", "chi2") else method


def number(value: Any, key: str = "") -> str:
    """A number as a table shows it: counts with separators, shares in %,
    amounts of money in US dollars, p-values in scientific notation when small,
    4 significant digits."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if key in _MONEY:
        return money(value)
    if key in _COUNTS:
        return f"{round(value):,}"
    if key in _SHARES:
        return f"{value:.2%}"
    if "pvalue" in key or "p_value" in key:
        return f"{value:.2e}" if 0 < value < 1e-3 else f"{value:.4f}"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


@dataclass
class StatisticsTable:
    """The drift statistics of one kind of feature in one window."""

    kind: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)


def drift_tables(results) -> list[StatisticsTable]:
    """Tables (numeric, then categorical) of the data drift check results of
    one window: each feature's verdict and every statistic it was taken on."""
    tables = {
        "numeric": StatisticsTable("Numeric", list(NUMERIC_STATISTICS.values())),
        "categorical": StatisticsTable(
            "Categorical", list(CATEGORICAL_STATISTICS.values())
        ),
    }
    for result in results:
        if result.kind not in (Check.DATA_DRIFT, Check.PREDICTION_DRIFT):
            continue
        details = result.details or {}
        kind = details.get("kind") or "numeric"
        names = NUMERIC_STATISTICS if kind == "numeric" else CATEGORICAL_STATISTICS
        statistics = details.get("statistics") or {}
        method = details.get("method", "")
        tables[kind].rows.append(
            {
                "subject": result.subject,
                "is_prediction": result.kind == Check.PREDICTION_DRIFT,
                "status": STATUSES.get(result.status, result.status),
                "severity": result.severity,
                "severity_label": SEVERITIES.get(result.severity, result.severity),
                "method": METHODS.get(method, method),
                "score": number(result.score, score_key(method)),
                "thresholds": f"{number(result.threshold)} / "
                f"{number(details.get('critical_threshold'))}",
                "corrected_p_value": number(
                    details.get("corrected_p_value"), "p_value"
                ),
                "values": number(details.get("current_count"), "current_count"),
                "missing": number(details.get("current_missing"), "current_missing"),
                "missing_rate": number(details.get("missing_rate"), "missing_rate"),
                "cells": [
                    (label, number(statistics.get(key), key), key == method)
                    for key, label in names.items()
                ],
            }
        )
    return [table for table in tables.values() if table.rows]


@dataclass
class Evidence:
    """An alert's evidence: the verdict, then the statistics, then the rest."""

    verdict: list[tuple[str, str]]
    statistics: list[tuple[str, str, bool]]
    other: list[tuple[str, str]]


def alert_evidence(details: dict[str, Any]) -> Evidence:
    method = details.get("method", "")
    verdict = []
    if method:
        verdict.append(("Decided on", METHODS.get(method, method)))
    # A cost check decides on the cost per call, in US dollars.
    key = COST_PER_CALL if "baseline_cost_per_call" in details else score_key(method)
    if details.get("score") is not None:
        verdict.append(("Value in the latest window", number(details["score"], key)))
    if details.get("threshold") is not None:
        verdict.append(("Warning threshold", number(details["threshold"], key)))
    if details.get("critical_threshold") is not None:
        verdict.append(
            ("Critical threshold", number(details["critical_threshold"], key))
        )
    if details.get("verdict"):
        verdict.append(("Verdict", SEVERITIES.get(details["verdict"], "")))
    names = (
        CATEGORICAL_STATISTICS
        if details.get("kind") == "categorical"
        else NUMERIC_STATISTICS
    )
    stored = details.get("statistics") or {}
    statistics = [
        (label, number(stored[key], key), key == method)
        for key, label in names.items()
        if key in stored
    ]
    other = [
        (label, number(details[key], key))
        for key, label in DETAILS.items()
        if key in details and not isinstance(details[key], dict | list)
    ]
    if isinstance(details.get("issues"), list) and details["issues"]:
        other.append(
            (
                "Issues",
                ", ".join(str(issue).replace("_", " ") for issue in details["issues"]),
            )
        )
    return Evidence(verdict=verdict, statistics=statistics, other=other)
