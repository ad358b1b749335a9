"""What a request page shows for a prompt (or LLM application) version
instead of an artifact and test metrics: the prompt (or the application's
pins), its diff against the live version, the metric
deltas of its eval-harness evaluations, and the evaluations themselves with
their downloads."""

from approvals.prompt_gates import is_prompt, latest_metrics
from approvals.selectors import MetricComparison
from models_registry.llm_app_selectors import llm_app_view
from models_registry.llm_eval_selectors import llm_evaluations_for_versions
from models_registry.models import PROMPT_CARD_LABELS
from models_registry.prompt_text import text_diff
from models_registry.selectors import prompt_view


def llm_metric_comparisons(model, new: dict, live: dict) -> list[MetricComparison]:
    """Declared metrics first (with their direction), then the others."""
    directions = {t["metric"]: t["direction"] for t in model.offline_success_metrics}
    names = list(directions) + sorted((set(new) | set(live)) - set(directions))
    rows = []
    for name in names:
        candidate, old = new.get(name), live.get(name)
        delta = None if candidate is None or old is None else candidate - old
        rows.append(MetricComparison(name, candidate, old, delta, directions.get(name)))
    return rows


def _view(version):
    """The prompt, or what an LLM application version pins, as text."""
    return prompt_view(version) or llm_app_view(version)


def prompt_context(detail) -> dict | None:
    """The prompt part of the request page (None for a model's version)."""
    version = detail.request.version
    if not is_prompt(version):
        return None
    live_version = detail.live.version if detail.live else None
    ids = [version.pk] + ([live_version.pk] if live_version else [])
    evaluations = llm_evaluations_for_versions(ids)
    this_view = _view(version)
    diff = None
    if live_version is not None and live_version.pk != version.pk:
        live_view = _view(live_version)
        diff = text_diff(
            live_view.full_text if live_view else "",
            this_view.full_text if this_view else "",
        )
    card = detail.card
    return {
        "view": this_view,
        "diff": diff,
        "diff_changes": sum(1 for line in diff or [] if line.change != "same"),
        "comparisons": llm_metric_comparisons(
            version.model,
            latest_metrics(evaluations[version.pk]),
            latest_metrics(evaluations.get(live_version.pk, []))
            if live_version
            else {},
        ),
        "evaluations": evaluations[version.pk],
        "card_sections": [
            {"label": label, "text": getattr(card, field)}
            for field, label in PROMPT_CARD_LABELS.items()
        ]
        if card
        else [],
    }
