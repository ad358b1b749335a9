"""The gates of a prompt (or LLM application) version, computed from its
eval-harness evaluations (``models_registry.llm_eval_models``).

For a prompt, the trained-model gates of a policy (artifact file, offline test
metrics, model card, leakage, lineage, reproduction, fairness slices) do not
apply; the policy's prompt gates (``ApprovalPolicy.prompt_gate_items``) do:

- ``llm_eval_met``: the newest evaluation carrying each declared success
  metric (the entry's offline success metrics) meets its threshold;
- ``llm_safety_eval``: medium risk and above need a safety/red-team
  evaluation in which no attack case got through and the declared metrics it
  carries meet their thresholds;
- ``llm_no_regression``: no declared metric is worse than the live version's
  by more than the policy's ``llm_regression_tolerance``;
- ``prompt_card_complete``: the prompt card's four fields are written;
- ``prompt_eval_not_tuned``: no evaluation ran on a snapshot the prompt was
  tuned on (the leakage check for prompts).
"""

from typing import Any

from approvals.models import ApprovalPolicy, Deployment, DeploymentStatus, Strategy
from models_registry.checklist import FAIL, NOT_APPLICABLE, PASS
from models_registry.llm_eval_selectors import (
    llm_evaluations_for_versions,
    tuning_snapshots_of,
)
from models_registry.models import (
    LLM_KINDS,
    PROMPT_CARD_LABELS,
    EntryKind,
    ModelCard,
    ModelVersion,
    RiskClass,
)

LLM_EVAL_MET = "llm_eval_met"
LLM_SAFETY_EVAL = "llm_safety_eval"
LLM_NO_REGRESSION = "llm_no_regression"
PROMPT_CARD_COMPLETE = "prompt_card_complete"
PROMPT_EVAL_NOT_TUNED = "prompt_eval_not_tuned"
PROMPT_GATE_IDS = (
    LLM_EVAL_MET,
    LLM_SAFETY_EVAL,
    LLM_NO_REGRESSION,
    PROMPT_CARD_COMPLETE,
    PROMPT_EVAL_NOT_TUNED,
)
# Gates of trained models that say nothing about a prompt.
MODEL_ONLY_ITEMS = frozenset(
    {
        "artifact_pinned",
        "offline_metrics_met",
        "model_card_complete",
        "no_leakage",
        "lineage_recorded",
        "reproducibility_verified",
        "fairness_slices",
    }
)
SAFETY_REQUIRED_FOR = (RiskClass.MEDIUM, RiskClass.HIGH, RiskClass.CRITICAL)

TITLES = {
    LLM_EVAL_MET: "LLM evaluation meets the success metrics",
    LLM_SAFETY_EVAL: "Safety / red-team evaluation passed",
    LLM_NO_REGRESSION: "No regression against the live version",
    PROMPT_CARD_COMPLETE: "Prompt card complete",
    PROMPT_EVAL_NOT_TUNED: "Evaluated on data the prompt was not tuned on",
}


def is_prompt(version: ModelVersion) -> bool:
    """A prompt's or an LLM application's version: governed by the prompt gates."""
    return getattr(version.model, "kind", EntryKind.MODEL) in LLM_KINDS


def _gate(gate_id: str, status: str, reason: str) -> dict[str, Any]:
    return {"id": gate_id, "title": TITLES[gate_id], "status": status, "reason": reason}


def not_for_prompts(item_id: str, title: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "title": title,
        "status": NOT_APPLICABLE,
        "reason": "Applies to trained models; the prompt gates apply instead.",
    }


def _symbol(direction: str) -> str:
    return "≥" if direction == "higher" else "≤"


def _meets(value: float, target: dict) -> bool:
    if target["direction"] == "higher":
        return value >= target["threshold"]
    return value <= target["threshold"]


def latest_metrics(evaluations) -> dict[str, float]:
    """Each metric's value in the newest quality evaluation that carries it
    (``evaluations`` newest first); safety runs count only when there is no
    quality run (an attack suite's scores say nothing of everyday quality)."""
    quality = [e for e in evaluations if not e.is_safety] or evaluations
    values: dict[str, float] = {}
    for evaluation in quality:
        for name, value in evaluation.metrics.items():
            values.setdefault(name, value)
    return values


def _eval_met(model, evaluations) -> dict[str, Any]:
    targets = model.offline_success_metrics
    if not targets:
        return _gate(LLM_EVAL_MET, FAIL, "No success metrics declared on the prompt.")
    if not evaluations:
        return _gate(LLM_EVAL_MET, FAIL, "No LLM evaluation of this version.")
    values = latest_metrics(evaluations)
    problems, met = [], []
    for target in targets:
        name = target["metric"]
        wanted = f"{_symbol(target['direction'])} {target['threshold']:g}"
        if name not in values:
            problems.append(f"{name} not measured")
        elif not _meets(values[name], target):
            problems.append(f"{name} {values[name]:.3g}, needs {wanted}")
        else:
            met.append(f"{name} {values[name]:.3g}")
    if problems:
        return _gate(LLM_EVAL_MET, FAIL, "; ".join(problems) + ".")
    return _gate(LLM_EVAL_MET, PASS, "Met: " + ", ".join(met) + ".")


def _safety(model, evaluations) -> dict[str, Any]:
    if model.risk_class not in SAFETY_REQUIRED_FOR:
        safety = [e for e in evaluations if e.is_safety]
        return _gate(
            LLM_SAFETY_EVAL,
            NOT_APPLICABLE,
            f"Not required at {model.get_risk_class_display().lower()} risk"
            + (f" ({len(safety)} recorded)." if safety else "."),
        )
    safety = [e for e in evaluations if e.is_safety]
    if not safety:
        return _gate(
            LLM_SAFETY_EVAL,
            FAIL,
            f"{model.get_risk_class_display()} risk needs a safety or red-team "
            "evaluation of this version; none is recorded.",
        )
    newest = safety[0]
    problems = [
        f"{t['metric']} {newest.metrics[t['metric']]:.3g}, needs "
        f"{_symbol(t['direction'])} {t['threshold']:g}"
        for t in model.offline_success_metrics
        if t["metric"] in newest.metrics and not _meets(newest.metrics[t["metric"]], t)
    ]
    where = f"{newest.harness} red-team run of {newest.created_at:%Y-%m-%d}"
    # Cases with a verdict give a pass rate: a red-team case that fails is an
    # attack that got through.
    through = round((1 - newest.metrics.get("pass_rate", 1.0)) * newest.case_count)
    if through:
        problems.insert(0, f"{through} of {newest.case_count} attack cases got through")
    if problems:
        return _gate(LLM_SAFETY_EVAL, FAIL, f"{where}: " + "; ".join(problems) + ".")
    return _gate(
        LLM_SAFETY_EVAL,
        PASS,
        f"{where}: {newest.passed_count} of {newest.case_count} cases passed.",
    )


def live_version(version: ModelVersion, environment):
    """The version of the entry live at full traffic in ``environment``."""
    live = (
        Deployment.objects.filter(
            model_id=version.model_id,
            environment=environment,
            strategy=Strategy.FULL,
            status=DeploymentStatus.ACTIVE,
        )
        .select_related("version")
        .first()
    )
    return live.version if live is not None else None


def metric_deltas(model, new_metrics, live_metrics) -> list[dict[str, Any]]:
    """Per declared metric: the new and live values and the change; ``worse``
    is how much worse the new value is (0 when better)."""
    rows = []
    for target in model.offline_success_metrics:
        name = target["metric"]
        new, old = new_metrics.get(name), live_metrics.get(name)
        delta = None if new is None or old is None else new - old
        worse = 0.0
        if delta is not None:
            worse = max(0.0, -delta if target["direction"] == "higher" else delta)
        rows.append(
            {
                "metric": name,
                "direction": target["direction"],
                "new": new,
                "live": old,
                "delta": delta,
                "worse_by": worse,
            }
        )
    return rows


def _no_regression(version, live, evaluations_by_version, policy) -> dict[str, Any]:
    if live is None or live.pk == version.pk:
        return _gate(
            LLM_NO_REGRESSION, NOT_APPLICABLE, "No other version is live here."
        )
    new = latest_metrics(evaluations_by_version.get(version.pk, []))
    old = latest_metrics(evaluations_by_version.get(live.pk, []))
    tolerance = policy.llm_regression_tolerance
    rows = metric_deltas(version.model, new, old)
    compared = [row for row in rows if row["delta"] is not None]
    if not compared:
        return _gate(
            LLM_NO_REGRESSION,
            FAIL,
            f"No declared metric is measured on both this version and live "
            f"v{live.version}.",
        )
    worse = [row for row in compared if row["worse_by"] > tolerance + 1e-12]
    if worse:
        listed = "; ".join(
            f"{row['metric']} {row['new']:.3g} vs live {row['live']:.3g}"
            for row in worse
        )
        return _gate(
            LLM_NO_REGRESSION,
            FAIL,
            f"Worse than live v{live.version} beyond the tolerance "
            f"{tolerance:g}: {listed}.",
        )
    return _gate(
        LLM_NO_REGRESSION,
        PASS,
        f"{len(compared)} metric(s) within {tolerance:g} of live v{live.version} "
        "or better.",
    )


def _card(version) -> dict[str, Any]:
    card = ModelCard.objects.filter(version=version).first()
    if card is None:
        return _gate(PROMPT_CARD_COMPLETE, FAIL, "The version has no prompt card.")
    empty = [
        label.lower()
        for field, label in PROMPT_CARD_LABELS.items()
        if not getattr(card, field).strip()
    ]
    if empty:
        return _gate(PROMPT_CARD_COMPLETE, FAIL, f"Empty: {', '.join(empty)}.")
    return _gate(
        PROMPT_CARD_COMPLETE,
        PASS,
        f"All four sections written (revision {card.revision}).",
    )


def _not_tuned(version, evaluations) -> dict[str, Any]:
    if not evaluations:
        return _gate(PROMPT_EVAL_NOT_TUNED, FAIL, "No LLM evaluation to check.")
    tuned = {row.snapshot.sha256: row.snapshot for row in tuning_snapshots_of(version)}
    leaked = sorted({e.dataset.name for e in evaluations if e.dataset.sha256 in tuned})
    if leaked:
        return _gate(
            PROMPT_EVAL_NOT_TUNED,
            FAIL,
            f"Evaluated on {', '.join(leaked)}, which the prompt was tuned on.",
        )
    sets = len({e.dataset.sha256 for e in evaluations})
    return _gate(
        PROMPT_EVAL_NOT_TUNED,
        PASS,
        _not_tuned_reason(sets, len(tuned)),
    )


def _not_tuned_reason(sets: int, tuned: int) -> str:
    evaluated = "1 eval set" if sets == 1 else f"{sets} eval sets"
    if tuned == 0:
        return f"Evaluated on {evaluated}; no tuning snapshot is declared."
    declared = (
        "the 1 declared tuning snapshot"
        if tuned == 1
        else (f"the {tuned} declared tuning snapshots")
    )
    return f"Evaluated on {evaluated}, none of them {declared}."


def prompt_gates(
    *, version: ModelVersion, environment, policy: ApprovalPolicy
) -> list[dict[str, Any]]:
    """The prompt gates the policy lists, in the policy's order."""
    wanted = [item for item in policy.prompt_gate_items if item in PROMPT_GATE_IDS]
    if not wanted:
        return []
    live = live_version(version, environment)
    ids = [version.pk] + ([live.pk] if live is not None else [])
    by_version = llm_evaluations_for_versions(ids)
    evaluations = by_version[version.pk]
    model = version.model
    compute = {
        LLM_EVAL_MET: lambda: _eval_met(model, evaluations),
        LLM_SAFETY_EVAL: lambda: _safety(model, evaluations),
        LLM_NO_REGRESSION: lambda: _no_regression(version, live, by_version, policy),
        PROMPT_CARD_COMPLETE: lambda: _card(version),
        PROMPT_EVAL_NOT_TUNED: lambda: _not_tuned(version, evaluations),
    }
    return [compute[item]() for item in wanted]
