"""The review checklist of a model version, computed from its records.

Every item says whether it passes and why, in words a reviewer can check. Nothing
here is typed in by hand. The functions are pure: the selector loads the records
(in a fixed number of queries) and passes them in.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from models_registry.fairness import Disparity, fairness_disparities, metric_directions
from models_registry.models import (
    InputRole,
    RiskClass,
    ServingMode,
    Split,
)

# Disparity, fairness_disparities and metric_directions live in
# models_registry.fairness and stay importable from here.
__all__ = [
    "FAIL",
    "FAIRNESS_REQUIRED_FOR",
    "NOT_APPLICABLE",
    "PASS",
    "REVIEW_HEADINGS",
    "Disparity",
    "Item",
    "compute_checklist",
    "fairness_disparities",
    "metric_directions",
    "review_summary",
]

PASS = "pass"  # noqa: S105 (a status, not a password)
FAIL = "fail"
NOT_APPLICABLE = "not_applicable"

FAIRNESS_REQUIRED_FOR = (RiskClass.HIGH, RiskClass.CRITICAL)

# The final review checklist of DESIGN.md, and the items each heading is made of.
REVIEW_HEADINGS = [
    (
        "offline_metrics_aligned",
        "Offline metrics aligned with business risk",
        ["success_metrics_defined", "offline_metrics_met", "fairness_slices"],
    ),
    (
        "reproducibility",
        "Data and code reproducibility",
        ["lineage_recorded", "reproducibility_verified", "no_leakage"],
    ),
    (
        "packaging",
        "Packaged artifacts with versioning and rollback",
        ["artifact_pinned"],
    ),
    (
        "monitoring",
        "Online monitoring and drift strategy",
        ["online_metrics_defined"],
    ),
    (
        "governance",
        "Governance and approval path",
        ["model_card_complete"],
    ),
]


@dataclass(frozen=True)
class Item:
    id: str
    stage: int
    title: str
    status: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_passed(self) -> bool:
        return self.status != FAIL


def _latest(evaluations, split):
    matching = [evaluation for evaluation in evaluations if evaluation.split == split]
    return max(
        matching,
        key=lambda evaluation: (evaluation.created_at, evaluation.pk),
        default=None,
    )


def _meets(value: float, direction: str, threshold: float) -> bool:
    return value >= threshold if direction == "higher" else value <= threshold


def _success_metrics(model) -> Item:
    missing = []
    if not model.offline_success_metrics:
        missing.append("offline success metrics")
    if not model.online_success_metrics:
        missing.append("online success metrics")
    if missing:
        return Item(
            "success_metrics_defined",
            1,
            "Success metrics defined",
            FAIL,
            f"No {' and no '.join(missing)} defined on the model.",
        )
    offline = ", ".join(
        f"{m['metric']} {'≥' if m['direction'] == 'higher' else '≤'} {m['threshold']}"
        for m in model.offline_success_metrics
    )
    online = ", ".join(
        f"{m['kpi']} {'≥' if m['direction'] == 'higher' else '≤'} {m['threshold']}"
        for m in model.online_success_metrics
    )
    return Item(
        "success_metrics_defined",
        1,
        "Success metrics defined",
        PASS,
        f"Offline: {offline}. Online: {online}.",
    )


def _offline_met(model, evaluations) -> Item:
    title = "Test metrics meet the offline success metrics"
    test = _latest(evaluations, Split.TEST)
    if not model.offline_success_metrics:
        return Item(
            "offline_metrics_met",
            3,
            title,
            FAIL,
            "No offline success metric is defined.",
        )
    if test is None:
        return Item(
            "offline_metrics_met", 3, title, FAIL, "No evaluation on the test split."
        )
    failures, details = [], {}
    for target in model.offline_success_metrics:
        name = target["metric"]
        value = test.metrics.get(name)
        details[name] = {"value": value, **target}
        if value is None:
            failures.append(f"{name} is missing from the test evaluation")
        elif not _meets(value, target["direction"], target["threshold"]):
            sign = "below" if target["direction"] == "higher" else "above"
            failures.append(f"{name} = {value:g} is {sign} {target['threshold']:g}")
    if failures:
        return Item(
            "offline_metrics_met", 3, title, FAIL, "; ".join(failures) + ".", details
        )
    return Item(
        "offline_metrics_met",
        3,
        title,
        PASS,
        "Every offline success metric is met on the test split.",
        details,
    )


def _fairness(model, evaluations) -> Item:
    title = "Fairness slices present, disparity within the threshold"
    required = model.risk_class in FAIRNESS_REQUIRED_FOR
    attributes = list(model.fairness_attributes)
    if not required and not attributes:
        return Item(
            "fairness_slices",
            3,
            title,
            NOT_APPLICABLE,
            f"Not required for {model.risk_class} risk with no protected attributes.",
        )
    if not attributes:
        return Item(
            "fairness_slices",
            3,
            title,
            FAIL,
            f"{model.risk_class.title()} risk models must name the protected "
            "attributes their slices cover.",
        )
    test = _latest(evaluations, Split.TEST)
    if test is None:
        return Item(
            "fairness_slices", 3, title, FAIL, "No evaluation on the test split."
        )
    slices = list(test.slices.all())
    present = {entry.attribute for entry in slices if entry.size > 0}
    missing = [attribute for attribute in attributes if attribute not in present]
    if missing:
        return Item(
            "fairness_slices",
            3,
            title,
            FAIL,
            f"No slices for {', '.join(missing)} in the test evaluation.",
        )
    directions = metric_directions(model)
    disparities = [
        d for d in fairness_disparities(slices, directions) if d.attribute in attributes
    ]
    worst = disparities[0] if disparities else None
    details = {
        "disparities": [asdict(d) for d in disparities],
        "threshold": model.fairness_max_disparity,
    }
    if worst and worst.gap > model.fairness_max_disparity:
        return Item(
            "fairness_slices",
            3,
            title,
            FAIL,
            f"{worst.metric} differs by {worst.gap:.3f} between {worst.attribute}="
            f"{worst.best_group} and {worst.worst_group}; the limit is "
            f"{model.fairness_max_disparity:g}.",
            details,
        )
    gap = f"largest gap {worst.gap:.3f}" if worst else "no comparable metric"
    return Item(
        "fairness_slices",
        3,
        title,
        PASS,
        f"Slices for {', '.join(attributes)}; {gap} within "
        f"{model.fairness_max_disparity:g}.",
        details,
    )


def _lineage(version, run_inputs) -> Item:
    title = "Data and code lineage recorded"
    run = version.training_run
    if run is None:
        return Item(
            "lineage_recorded",
            2,
            title,
            FAIL,
            "No training run is linked to the version.",
        )
    problems = []
    if run.random_seed is None:
        problems.append("no random seed")
    if not any(run_input.role == InputRole.TRAIN for run_input in run_inputs):
        problems.append("no training snapshot")
    if problems:
        return Item(
            "lineage_recorded",
            2,
            title,
            FAIL,
            f"Run {run.external_run_id} has {', '.join(problems)}.",
        )
    return Item(
        "lineage_recorded",
        2,
        title,
        PASS,
        f"Run {run.external_run_id}: commit {run.code_commit[:12]}, environment "
        f"{run.environment_lock_hash[:12]}, seed {run.random_seed}, "
        f"{len(run_inputs)} input snapshot(s).",
    )


def _reproducibility(reproduction_checks) -> Item:
    title = "Reproducibility verified"
    if not reproduction_checks:
        return Item(
            "reproducibility_verified",
            2,
            title,
            FAIL,
            "No re-run has been compared yet.",
        )
    latest = max(reproduction_checks, key=lambda check: (check.created_at, check.pk))
    when = latest.created_at.strftime("%Y-%m-%d")
    if latest.is_passed:
        how = (
            "same artifact hash"
            if latest.mode == "exact_hash"
            else "metrics within tolerance"
        )
        return Item(
            "reproducibility_verified", 2, title, PASS, f"Re-run of {when}: {how}."
        )
    return Item(
        "reproducibility_verified",
        2,
        title,
        FAIL,
        f"Re-run of {when} did not reproduce the original.",
        latest.differences,
    )


def _leakage(version, run_inputs, evaluations) -> Item:
    title = "No leakage between training and evaluation data"
    train = {
        ri.snapshot_id: ri.snapshot for ri in run_inputs if ri.role == InputRole.TRAIN
    }
    held_out = {
        ri.snapshot_id: ri.snapshot
        for ri in run_inputs
        if ri.role in (InputRole.VALIDATION, InputRole.TEST)
    }
    for evaluation in evaluations:
        if evaluation.split in (Split.VALIDATION, Split.TEST, Split.OUT_OF_TIME):
            held_out[evaluation.dataset_id] = evaluation.dataset
    if not train:
        return Item(
            "no_leakage",
            3,
            title,
            FAIL,
            "No training snapshot is recorded to check against.",
        )
    overlap = sorted(set(train) & set(held_out))
    if overlap:
        names = ", ".join(train[pk].name for pk in overlap)
        return Item(
            "no_leakage",
            3,
            title,
            FAIL,
            f"{names} is used both for training and for validation or test.",
        )
    train_ends = [s.time_range_end for s in train.values() if s.time_range_end]
    if train_ends:
        train_end = max(train_ends)
        for snapshot in held_out.values():
            if snapshot.time_range_start and snapshot.time_range_start <= train_end:
                return Item(
                    "no_leakage",
                    3,
                    title,
                    FAIL,
                    f"{snapshot.name} starts "
                    f"{snapshot.time_range_start:%Y-%m-%d %H:%M}, "
                    f"before training data ends {train_end:%Y-%m-%d %H:%M}.",
                )
    return Item(
        "no_leakage",
        3,
        title,
        PASS,
        f"{len(train)} training and {len(held_out)} held-out snapshot(s) are distinct"
        + (
            " and held-out data starts after training data ends." if train_ends else "."
        ),
    )


def _card(card) -> Item:
    title = "Model card complete"
    if card is None:
        return Item(
            "model_card_complete", 3, title, FAIL, "The version has no model card."
        )
    empty = [
        name.replace("_", " ")
        for name, text in card.content().items()
        if not text.strip()
    ]
    if empty:
        return Item(
            "model_card_complete", 3, title, FAIL, f"Empty: {', '.join(empty)}."
        )
    return Item(
        "model_card_complete",
        3,
        title,
        PASS,
        f"All sections written (revision {card.revision}).",
    )


def _artifact(version) -> Item:
    title = "Artifact pinned with its preprocessing version and feature spec"
    artifact = version.artifact
    missing = []
    if not artifact.preprocessing_code_version:
        missing.append("preprocessing code version")
    if not artifact.feature_spec:
        missing.append("feature spec")
    if missing:
        return Item(
            "artifact_pinned",
            4,
            title,
            FAIL,
            f"The artifact has no {' and no '.join(missing)}.",
        )
    return Item(
        "artifact_pinned",
        4,
        title,
        PASS,
        f"sha256 {artifact.sha256[:12]}… pinned with preprocessing "
        f"{artifact.preprocessing_code_version} and "
        f"{len(artifact.feature_spec)} features.",
    )


def _online(model) -> Item:
    title = "Online success metrics and SLO defined for monitoring"
    if not model.online_success_metrics:
        return Item(
            "online_metrics_defined",
            5,
            title,
            FAIL,
            "No online success metric (business KPI) defined.",
        )
    if model.serving_mode == ServingMode.REAL_TIME and not model.latency_slo_ms:
        return Item(
            "online_metrics_defined",
            5,
            title,
            FAIL,
            "Real-time model without a latency SLO.",
        )
    slo = (
        f"; p{model.latency_slo_percentile} latency ≤ {model.latency_slo_ms} ms"
        if model.latency_slo_ms
        else ""
    )
    kpis = ", ".join(metric["kpi"] for metric in model.online_success_metrics)
    return Item("online_metrics_defined", 5, title, PASS, f"KPIs: {kpis}{slo}.")


def compute_checklist(
    *, version, evaluations, run_inputs, card, reproduction_checks
) -> list[Item]:
    """All items, in lifecycle order. ``evaluations`` carry prefetched ``slices``."""
    model = version.model
    return [
        _success_metrics(model),
        _lineage(version, run_inputs),
        _reproducibility(reproduction_checks),
        _offline_met(model, evaluations),
        _fairness(model, evaluations),
        _leakage(version, run_inputs, evaluations),
        _card(card),
        _artifact(version),
        _online(model),
    ]


def review_summary(items: list[Item]) -> list[dict[str, Any]]:
    """Group items under the five headings of the final review checklist."""
    by_id = {item.id: item for item in items}
    summary = []
    for key, title, ids in REVIEW_HEADINGS:
        members = [by_id[item_id] for item_id in ids if item_id in by_id]
        summary.append(
            {
                "id": key,
                "title": title,
                "status": PASS if all(member.is_passed for member in members) else FAIL,
                "items": [member.id for member in members],
            }
        )
    return summary
