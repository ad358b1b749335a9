"""Eval-harness evaluations of prompt (and LLM application) versions, and the
snapshots a prompt was tuned on.

An import parses the harness's document (``models_registry.eval_formats``),
checks it whole, then writes the evaluation, its per-case results, the eval
set's dataset snapshot when it is new, and the audit event in one transaction:
a refused document stores nothing. Importing the same document again for the
same version returns the first evaluation.
"""

from typing import Any

from django.db import transaction

from audit.services import audit_record
from models_registry import access, eval_formats, validation
from models_registry.errors import RegistryInvalid
from models_registry.eval_formats.common import (
    cases_sha256,
    cases_size_problems,
    sha256_of,
)
from models_registry.models import (
    DatasetSnapshot,
    LlmEvaluation,
    LlmEvaluationCases,
    ModelVersion,
    PromptTuningSnapshot,
)
from models_registry.services.preconditions import (
    FieldErrors,
    lock_model,
    require_model_permission,
)

NOT_IMPORTED = "The evaluation was not imported."
CASE_SCHEMA = [
    {"name": "case", "type": "string"},
    {"name": "input", "type": "string"},
    {"name": "expected", "type": "string"},
]


def _eval_snapshot(*, actor, version, imported, dataset_name: str) -> DatasetSnapshot:
    """The eval set as a snapshot of the model's team, found by the sha256 of
    its cases (inputs and expected answers) or made (inside the caller's
    transaction)."""
    sha256 = cases_sha256(imported.cases)
    team = version.model.team
    snapshot, _ = DatasetSnapshot.objects.get_or_create(
        team=team,
        sha256=sha256,
        defaults={
            "name": (dataset_name or f"{version.model.name} eval cases")[:200],
            "uri": f"gatehouse://eval-cases/{sha256}",
            "row_count": len(imported.cases),
            "schema": CASE_SCHEMA,
            "created_by": actor,
        },
    )
    return snapshot


def llm_evaluation_import(
    *,
    actor,
    version: ModelVersion,
    source_format: str,
    document: Any,
    is_safety: bool | None = None,
    judge_model: str = "",
    dataset: DatasetSnapshot | None = None,
    dataset_name: str = "",
) -> tuple[LlmEvaluation, bool]:
    """Import a harness's results as an evaluation of ``version``; returns the
    evaluation and whether it is new. ``is_safety`` and ``judge_model`` override
    what the document says."""
    require_model_permission(actor, version.model, access.REGISTER)
    try:
        imported = eval_formats.parse(source_format, document)
    except eval_formats.FormatError as error:
        raise validation_error(error.fields) from error
    errors = FieldErrors()
    size, problems = cases_size_problems(imported.cases)
    errors.add("results", problems)
    if not imported.cases:
        errors.add("results", "The results hold no cases.")
    errors.add("results", validation.metrics_errors(imported.metrics))
    judge = judge_model or imported.judge_model
    if len(judge) > 200:
        errors.add("judge_model", "At most 200 characters.")
    errors.add("judge_model", validation.secret_errors(judge))
    if dataset is not None and dataset.team_id != version.model.team_id:
        errors.add("dataset", "The snapshot belongs to another team.")
    if not problems:
        texts = [
            c[key] for c in imported.cases for key in ("input", "output", "expected")
        ]
        errors.add("results", validation.secret_errors(texts))
    errors.raise_if_any(NOT_IMPORTED)
    source_sha256 = sha256_of({"format": source_format, "document": document})
    safety = bool(imported.is_safety) if is_safety is None else is_safety
    with transaction.atomic():
        # The entry's row lock (the registry's first lock) serialises imports
        # of its versions: the same document imported twice at once is one.
        lock_model(version.model)
        existing = LlmEvaluation.objects.filter(
            version=version, source_sha256=source_sha256
        ).first()
        if existing is not None:
            return existing, False
        snapshot = dataset or _eval_snapshot(
            actor=actor, version=version, imported=imported, dataset_name=dataset_name
        )
        passed = sum(1 for c in imported.cases if c["passed"] is True)
        evaluation = LlmEvaluation.objects.create(
            version=version,
            source_format=source_format,
            harness=imported.harness[:100],
            harness_version=imported.harness_version[:100],
            dataset=snapshot,
            judge_model=judge,
            metrics=imported.metrics,
            is_safety=safety,
            case_count=len(imported.cases),
            passed_count=passed,
            source_sha256=source_sha256,
            created_by=actor,
        )
        LlmEvaluationCases.objects.create(
            evaluation=evaluation, cases=imported.cases, size_bytes=size
        )
        audit_record(
            actor=actor,
            action="llm_evaluation.imported",
            target=version,
            scope=version.model.name,
            payload={
                "evaluation": evaluation.pk,
                "format": source_format,
                "harness": evaluation.harness,
                "harness_version": evaluation.harness_version,
                "dataset": snapshot.pk,
                "dataset_sha256": snapshot.sha256,
                "judge_model": judge,
                "is_safety": safety,
                "cases": evaluation.case_count,
                "passed": passed,
                "metrics": imported.metrics,
                "source_sha256": source_sha256,
            },
        )
    return evaluation, True


def validation_error(fields: dict[str, list[str]]) -> RegistryInvalid:
    return RegistryInvalid(NOT_IMPORTED, fields=fields)


def prompt_tuning_declare(
    *, actor, version: ModelVersion, snapshot: DatasetSnapshot
) -> tuple[PromptTuningSnapshot, bool]:
    """Declare that ``version`` was tuned on ``snapshot`` (its few-shot
    examples or the cases it was iterated on); declaring it again is a no-op."""
    require_model_permission(actor, version.model, access.REGISTER)
    if snapshot.team_id != version.model.team_id:
        raise validation_error({"snapshot": ["The snapshot belongs to another team."]})
    with transaction.atomic():
        row, created = PromptTuningSnapshot.objects.get_or_create(
            version=version, snapshot=snapshot, defaults={"created_by": actor}
        )
        if created:
            audit_record(
                actor=actor,
                action="prompt.tuning_declared",
                target=version,
                scope=version.model.name,
                payload={"snapshot": snapshot.pk, "sha256": snapshot.sha256},
            )
    return row, created
