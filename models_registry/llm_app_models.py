"""What an LLM application version pins: the prompt versions it runs, its base
model and provider, its generation parameters and, for a retrieval app, the
dataset snapshot of its index; the sha256 of their canonical JSON is the
version's identity.

Written once with the version (``models_registry.services.llm_apps``); the
rows are immutable (``save()`` refuses updates, database triggers refuse
UPDATE and DELETE). The version's artifact records the same sha256 with the
format ``llm_app``, so one version per artifact is one version per pin set.
"""

from django.db import models
from django.utils import timezone

from models_registry.models import DatasetSnapshot, ImmutableModel, ModelVersion

__all__ = ["LlmAppContent", "LlmAppPromptPin", "ResponseFormat"]


class ResponseFormat(models.TextChoices):
    TEXT = "text", "Text"
    JSON_OBJECT = "json_object", "JSON object"
    JSON_SCHEMA = "json_schema", "JSON following a schema"


class LlmAppContent(ImmutableModel):
    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="llm_app"
    )
    # "openai", "anthropic", "vllm", ... and the provider's model name.
    provider = models.CharField(max_length=40)
    model_name = models.CharField(max_length=200)
    temperature = models.FloatField()
    max_tokens = models.PositiveIntegerField()
    response_format = models.CharField(max_length=12, choices=ResponseFormat.choices)
    # The snapshot of the retrieval index's documents (retrieval apps only).
    index_snapshot = models.ForeignKey(
        DatasetSnapshot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["content_hash"])]

    def __str__(self):
        return f"LLM app of {self.version_id} ({self.content_hash[:12]})"

    @property
    def base_model(self) -> str:
        return f"{self.provider}:{self.model_name}"


class LlmAppPromptPin(ImmutableModel):
    """One prompt version an LLM application version runs, in the order given."""

    app = models.ForeignKey(
        LlmAppContent, on_delete=models.CASCADE, related_name="pins"
    )
    prompt_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["app", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["app", "position"], name="llm_app_pin_position_unique"
            ),
            models.UniqueConstraint(
                fields=["app", "prompt_version"], name="llm_app_pin_version_unique"
            ),
        ]

    def __str__(self):
        return f"pin {self.position} of {self.app_id}: {self.prompt_version_id}"
