"""Reads of LLM evaluations: a version's evaluations, one evaluation with its
per-case results, a version's tuning snapshots. The permission rule is the
registry's (``access.limit_to``), inside the query."""

from django.db.models import QuerySet

from models_registry import access
from models_registry.errors import LlmEvaluationNotFound
from models_registry.models import LlmEvaluation, ModelVersion, PromptTuningSnapshot

CSV_COLUMNS = (
    "case", "input", "output", "expected", "passed", "score", "latency_ms", "cost",
    "error", "metrics",
)  # fmt: skip


def llm_evaluations_of(version: ModelVersion) -> QuerySet:
    """Newest first (the version was read through a permission-checking
    selector)."""
    return (
        LlmEvaluation.objects.filter(version=version)
        .select_related("dataset", "created_by")
        .order_by("-created_at", "-pk")
    )


def llm_evaluations_for_versions(version_ids) -> dict[int, list[LlmEvaluation]]:
    """Each version's evaluations, newest first, in one query."""
    found: dict[int, list[LlmEvaluation]] = {pk: [] for pk in version_ids}
    for evaluation in (
        LlmEvaluation.objects.filter(version_id__in=version_ids)
        .select_related("dataset")
        .order_by("-created_at", "-pk")
    ):
        found[evaluation.version_id].append(evaluation)
    return found


def llm_evaluation_get(*, actor, id: int, with_cases: bool = False) -> LlmEvaluation:
    """One evaluation the actor may see (404 otherwise), in one query."""
    queryset = access.limit_to(
        actor,
        LlmEvaluation.objects.select_related(
            "dataset", "created_by", "version", "version__model"
        ),
        "version__model_id",
    )
    if with_cases:
        queryset = queryset.select_related("case_results")
    evaluation = queryset.filter(pk=id).first()
    if evaluation is None:
        raise LlmEvaluationNotFound("No such LLM evaluation.")
    return evaluation


def llm_evaluation_cases(evaluation: LlmEvaluation) -> list[dict]:
    results = getattr(evaluation, "case_results", None)
    return list(results.cases) if results is not None else []


def tuning_snapshots_of(version: ModelVersion) -> QuerySet:
    return (
        PromptTuningSnapshot.objects.filter(version=version)
        .select_related("snapshot", "created_by")
        .order_by("created_at", "pk")
    )
