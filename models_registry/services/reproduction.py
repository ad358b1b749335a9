"""Reproduction checks: a re-run compared with the original under the model's
tolerance."""

from typing import Any

from django.db import transaction

from audit.services import audit_record
from models_registry import access, validation
from models_registry.models import (
    Evaluation,
    ModelVersion,
    ReproductionCheck,
    Split,
)
from models_registry.services.preconditions import (
    FieldErrors,
    require_model_permission,
)


def reproduction_check_record(
    *,
    actor,
    version: ModelVersion,
    artifact_sha256: str,
    metrics: dict[str, float] | None = None,
    external_run_id: str = "",
) -> ReproductionCheck:
    """Compare a re-run with the original under the model's tolerance."""
    require_model_permission(actor, version.model, access.REGISTER)
    metrics = metrics or {}
    errors = FieldErrors()
    errors.add("artifact_sha256", validation.sha256_errors(artifact_sha256))
    errors.add("metrics", validation.metrics_errors(metrics))
    errors.raise_if_any("The reproduction check was not recorded.")
    tolerance = version.model.reproducibility_tolerance or {"mode": "exact_hash"}
    mode = tolerance.get("mode", "exact_hash")
    original_sha = version.artifact.sha256
    differences: dict[str, Any] = {}
    if mode == "exact_hash":
        is_passed = artifact_sha256 == original_sha
        if not is_passed:
            differences["artifact_sha256"] = {
                "original": original_sha,
                "rerun": artifact_sha256,
            }
    else:
        original = _test_metrics(version)
        is_passed = True
        metric_differences = {}
        for name, allowed in tolerance["tolerances"].items():
            if name not in original or name not in metrics:
                is_passed = False
                metric_differences[name] = {
                    "original": original.get(name),
                    "rerun": metrics.get(name),
                    "problem": "missing on one side",
                }
                continue
            difference = abs(metrics[name] - original[name])
            within = difference <= allowed
            is_passed = is_passed and within
            metric_differences[name] = {
                "original": original[name],
                "rerun": metrics[name],
                "difference": difference,
                "tolerance": allowed,
                "within": within,
            }
        differences["metrics"] = metric_differences
    with transaction.atomic():
        check = ReproductionCheck.objects.create(
            version=version,
            external_run_id=external_run_id,
            artifact_sha256=artifact_sha256,
            metrics=metrics,
            is_passed=is_passed,
            differences=differences,
            mode=mode,
            checked_by=actor,
        )
        audit_record(
            actor=actor,
            action="reproduction.checked",
            target=version,
            scope=version.model.name,
            payload={"passed": is_passed, "mode": mode, "differences": differences},
        )
    return check


def _test_metrics(version: ModelVersion) -> dict[str, float]:
    latest = (
        Evaluation.objects.filter(version=version, split=Split.TEST)
        .order_by("-created_at", "-pk")
        .first()
    )
    return dict(latest.metrics) if latest else {}
