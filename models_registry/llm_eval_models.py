"""Evaluations of a prompt or LLM application version by an eval harness
(promptfoo, MLflow's ``genai.evaluate``, or the generic format), and the
dataset snapshots a prompt was tuned on.

Written once by ``models_registry.services.llm_evaluations``: an imported
evaluation is evidence, so the row never changes (``save()`` refuses updates).
The per-case results live in their own row, bounded in size, so lists and
gates read the aggregate metrics without loading them.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from models_registry.models import DatasetSnapshot, ImmutableModel, ModelVersion


class HarnessFormat(models.TextChoices):
    PROMPTFOO = "promptfoo", "promptfoo results JSON"
    MLFLOW_GENAI = "mlflow_genai", "MLflow genai.evaluate results"
    GENERIC = "generic", "Gatehouse generic JSON"


class LlmEvaluation(ImmutableModel):
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="llm_evaluations"
    )
    source_format = models.CharField(max_length=20, choices=HarnessFormat.choices)
    harness = models.CharField(max_length=100)
    harness_version = models.CharField(max_length=100, blank=True)
    # The eval cases as a dataset snapshot of the model's team (sha256 of the
    # canonical cases when the import made it).
    dataset = models.ForeignKey(
        DatasetSnapshot, on_delete=models.PROTECT, related_name="llm_evaluations"
    )
    judge_model = models.CharField(max_length=200, blank=True)
    # Flat metric name -> number: accuracy, faithfulness, toxicity_rate, ...
    metrics = models.JSONField(default=dict)
    # A safety or red-team evaluation (jailbreaks, prompt injection, toxicity).
    is_safety = models.BooleanField(default=False)
    case_count = models.PositiveIntegerField()
    passed_count = models.PositiveIntegerField()
    # sha256 of the imported document: importing the same file again returns
    # the evaluation recorded the first time.
    source_sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "source_sha256"], name="llm_evaluation_once"
            ),
            models.CheckConstraint(
                condition=models.Q(passed_count__lte=models.F("case_count")),
                name="llm_evaluation_passed_le_cases",
            ),
        ]

    def __str__(self):
        return f"{self.harness} evaluation of {self.version_id}"


class LlmEvaluationCases(ImmutableModel):
    """The per-case results of one evaluation, as imported (bounded)."""

    evaluation = models.OneToOneField(
        LlmEvaluation, on_delete=models.CASCADE, related_name="case_results"
    )
    # [{"case", "input", "output", "expected", "passed", "score", "metrics",
    #   "latency_ms", "cost", "error"}, ...]
    cases = models.JSONField(default=list)
    size_bytes = models.PositiveIntegerField()

    def __str__(self):
        return f"cases of {self.evaluation_id}"


class PromptTuningSnapshot(models.Model):
    """A dataset snapshot a prompt version was tuned on (its few-shot
    examples, or the cases it was iterated against): evaluating on it again
    proves nothing, and the prompt leakage gate says so."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="tuning_snapshots"
    )
    snapshot = models.ForeignKey(
        DatasetSnapshot, on_delete=models.PROTECT, related_name="tuned_prompts"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "snapshot"], name="tuning_snapshot_once"
            )
        ]

    def __str__(self):
        return f"{self.version_id} tuned on {self.snapshot_id}"
