"""The eval baseline of judge scores: what the version scored offline."""

from __future__ import annotations

from models_registry.models import LlmEvaluation


def eval_baselines(version_id: int, tested: dict[str, float]) -> dict[str, float]:
    """Each metric as the version's newest eval-harness evaluation having it
    scored it (safety evaluations aside), over the metrics of its test
    evaluation (one query)."""
    baselines = dict(tested)
    evaluations = (
        LlmEvaluation.objects.filter(version_id=version_id, is_safety=False)
        .order_by("created_at", "pk")
        .values_list("metrics", flat=True)
    )
    for metrics in evaluations:
        for name, value in (metrics or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                baselines[name] = float(value)
    return baselines
