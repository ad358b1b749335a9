"""Evaluations per split, with their fairness slices."""

from typing import Any

from django.db import transaction

from audit.services import audit_record
from models_registry import access, validation
from models_registry.models import (
    DatasetSnapshot,
    Evaluation,
    FairnessSlice,
    ModelVersion,
    Split,
)
from models_registry.services.preconditions import (
    FieldErrors,
    check_choice,
    require_model_permission,
)


def evaluation_record(
    *,
    actor,
    version: ModelVersion,
    split: str,
    dataset: DatasetSnapshot,
    metrics: dict[str, float],
    slices: list[dict[str, Any]] | None = None,
) -> Evaluation:
    """Record an evaluation with its fairness slices (attribute, group, size,
    metrics). Disparities are computed when read, never typed in."""
    require_model_permission(actor, version.model, access.REGISTER)
    slices = slices or []
    errors = FieldErrors()
    check_choice(errors, "split", split, Split)
    errors.add("metrics", validation.metrics_errors(metrics))
    if isinstance(metrics, dict) and not metrics:
        errors.add("metrics", "Give at least one metric.")
    if dataset.team_id != version.model.team_id:
        errors.add("dataset", "The snapshot belongs to another team.")
    seen = set()
    for index, entry in enumerate(slices):
        where = f"slices[{index}]"
        if not isinstance(entry, dict):
            errors.add(where, "Must be an object.")
            continue
        attribute, group = entry.get("attribute"), entry.get("group")
        if not isinstance(attribute, str) or not attribute:
            errors.add(where, "Needs an “attribute”.")
        if not isinstance(group, str) or not group:
            errors.add(where, "Needs a “group”.")
        errors.add(where, validation.secret_errors([attribute, group]))
        if (attribute, group) in seen:
            errors.add(where, f"{attribute}={group} appears twice.")
        seen.add((attribute, group))
        size = entry.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            errors.add(where, "“size” must be a whole number.")
        errors.add(where, validation.metrics_errors(entry.get("metrics", {})))
    errors.raise_if_any("The evaluation was not recorded.")
    with transaction.atomic():
        evaluation = Evaluation.objects.create(
            version=version,
            split=split,
            dataset=dataset,
            metrics=metrics,
            created_by=actor,
        )
        FairnessSlice.objects.bulk_create(
            [
                FairnessSlice(
                    evaluation=evaluation,
                    attribute=entry["attribute"],
                    group=entry["group"],
                    size=entry["size"],
                    metrics=entry.get("metrics", {}),
                )
                for entry in slices
            ]
        )
        audit_record(
            actor=actor,
            action="evaluation.recorded",
            target=version,
            scope=version.model.name,
            payload={
                "evaluation": evaluation.pk,
                "split": split,
                "dataset": dataset.pk,
                "metrics": metrics,
                "slices": len(slices),
            },
        )
    return evaluation
