"""Model cards: each edit is a revision; frozen once approved for production."""

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from models_registry import access, validation
from models_registry.errors import (
    CardFrozen,
    CardRevisionConflict,
)
from models_registry.models import (
    CARD_FIELDS,
    ModelCard,
    ModelCardRevision,
    ModelVersion,
)
from models_registry.services.preconditions import (
    FieldErrors,
    require_model_permission,
)


def model_card_update(
    *, actor, version: ModelVersion, expected_revision: int | None = None, **fields: str
) -> ModelCard:
    """Edit the card's text; each edit is a revision. Frozen once the version is
    approved for production. With ``expected_revision``, refuse to overwrite a
    revision saved by someone else since (checked under the row lock)."""
    require_model_permission(actor, version.model, access.CHANGE)
    errors = FieldErrors()
    for field in sorted(set(fields) - set(CARD_FIELDS)):
        errors.add(field, "Unknown model card field.")
    for field, text in fields.items():
        if not isinstance(text, str):
            errors.add(field, "Must be text.")
        else:
            errors.add(field, validation.secret_errors(text))
    errors.raise_if_any("The model card was not changed.")
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.is_card_frozen:
            raise CardFrozen(
                "The model card is frozen: this version is approved for production."
            )
        card = ModelCard.objects.select_for_update().get(version=version)
        if expected_revision is not None and card.revision != expected_revision:
            raise CardRevisionConflict(
                f"Someone else saved revision {card.revision} while you were editing "
                f"revision {expected_revision}.",
                fields={"base_revision": [f"The card is at revision {card.revision}."]},
            )
        diff = {
            field: [getattr(card, field), text]
            for field, text in fields.items()
            if getattr(card, field) != text
        }
        if not diff:
            return card
        for field, (_, text) in diff.items():
            setattr(card, field, text)
        card.revision += 1
        card.updated_at = timezone.now()
        card.updated_by = actor
        card.save()
        ModelCardRevision.objects.create(
            card=card,
            revision=card.revision,
            content=card.content(),
            edited_by=actor,
            edited_at=card.updated_at,
        )
        audit_record(
            actor=actor,
            action="card.updated",
            target=version,
            scope=version.model.name,
            payload={"revision": card.revision, "diff": diff},
        )
    return card
