"""What a prompt version holds: its template (text with ``{{variables}}`` or
chat messages), response format and model configuration, and the sha256 of
their canonical JSON, which is the version's identity.

Written once with the version (``models_registry.services.prompts``); the row
is immutable (``save()`` refuses updates, database triggers refuse UPDATE and
DELETE). The version's artifact records the same sha256 with the format
``prompt``, so the registry's one-version-per-artifact rule is the
one-version-per-content rule.
"""

from django.db import models
from django.utils import timezone

from models_registry.card_models import CARD_FIELDS
from models_registry.models import LLM_KINDS, ImmutableModel, ModelVersion

# A prompt's card ("prompt card") keeps four of the model card's fields, shown
# under the labels of PROMPT_CARD_LABELS.
PROMPT_CARD_FIELDS = (
    "intended_use",
    "out_of_scope_uses",
    "limitations",
    "ethical_considerations",
)
PROMPT_CARD_LABELS = {
    "intended_use": "Intended use",
    "out_of_scope_uses": "Out-of-scope use",
    "limitations": "Known failure modes",
    "ethical_considerations": "Safety mitigations",
}


def card_fields(kind: str) -> tuple[str, ...]:
    """The card fields an entry of this kind fills."""
    return PROMPT_CARD_FIELDS if kind in LLM_KINDS else CARD_FIELDS


__all__ = [
    "PROMPT_CARD_FIELDS",
    "PROMPT_CARD_LABELS",
    "PromptContent",
    "PromptTemplateType",
    "card_fields",
]


class PromptTemplateType(models.TextChoices):
    TEXT = "text", "Text"
    CHAT = "chat", "Chat"


class PromptContent(ImmutableModel):
    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="prompt"
    )
    template_type = models.CharField(max_length=8, choices=PromptTemplateType.choices)
    # The text template (text prompts); empty for chat prompts.
    template = models.TextField(blank=True)
    # [{"role": "system", "content": "You are ... {{tone}}"}, ...] (chat prompts).
    messages = models.JSONField(default=list, blank=True)
    # The JSON schema of the expected response, or null.
    response_format = models.JSONField(null=True, blank=True)
    # {"provider": "openai", "model_name": "gpt-4.1", "temperature": 0.2, ...} or null.
    model_config = models.JSONField(null=True, blank=True)
    # The template's variable names, in order of first use.
    variables = models.JSONField(default=list, blank=True)
    # sha256 of the canonical JSON of template, messages, response format and
    # model config: equal content, equal hash.
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["content_hash"])]

    def __str__(self):
        return f"prompt of {self.version_id} ({self.content_hash[:12]})"
