"""A version's card: the current text of its fields (``ModelCard``) and every
earlier text (``ModelCardRevision``, immutable: ``save()`` refuses updates and
database triggers refuse UPDATE and DELETE).

Written by ``models_registry.services.cards``; a prompt's or LLM application's
card fills four of the fields (``prompt_models.PROMPT_CARD_FIELDS``).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from models_registry.models import ImmutableModel, ModelVersion

__all__ = ["CARD_FIELDS", "ModelCard", "ModelCardRevision"]


CARD_FIELDS = (
    "intended_use",
    "out_of_scope_uses",
    "users",
    "limitations",
    "ethical_considerations",
    "training_data_summary",
    "evaluation_data_summary",
    "caveats",
    "recommendations",
)


class ModelCard(models.Model):
    """The current text of a version's card; every edit adds a revision."""

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="card"
    )
    intended_use = models.TextField(blank=True)
    out_of_scope_uses = models.TextField(blank=True)
    users = models.TextField(blank=True)
    limitations = models.TextField(blank=True)
    ethical_considerations = models.TextField(blank=True)
    training_data_summary = models.TextField(blank=True)
    evaluation_data_summary = models.TextField(blank=True)
    caveats = models.TextField(blank=True)
    recommendations = models.TextField(blank=True)
    revision = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self):
        return f"card of {self.version} (revision {self.revision})"

    def content(self) -> dict[str, str]:
        return {field: getattr(self, field) for field in CARD_FIELDS}

    @property
    def is_complete(self) -> bool:
        return all(value.strip() for value in self.content().values())

    def is_complete_for(self, kind: str) -> bool:
        """Every field an entry of ``kind`` fills is written (a prompt card
        has four, see PROMPT_CARD_FIELDS)."""
        from models_registry.prompt_models import card_fields

        return all(getattr(self, field).strip() for field in card_fields(kind))


class ModelCardRevision(ImmutableModel):
    card = models.ForeignKey(
        ModelCard, on_delete=models.CASCADE, related_name="revisions"
    )
    revision = models.PositiveIntegerField()
    content = models.JSONField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["card", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "revision"], name="card_revision_once"
            )
        ]

    def __str__(self):
        return f"revision {self.revision}"
