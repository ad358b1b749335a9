"""What every registry service checks first: field errors collected and raised
together, the actor's right on the model, and the model's row lock."""

from typing import Any

from kernel.models import Team
from models_registry import access
from models_registry.errors import (
    ModelNotFound,
    RegistryInvalid,
    RegistryPermissionDenied,
)
from models_registry.models import RegisteredModel


class FieldErrors:
    """Collects field errors; ``raise_if_any`` raises them all at once."""

    def __init__(self):
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, problems: list[str] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        if problems:
            self.fields.setdefault(field, []).extend(problems)

    def raise_if_any(self, message: str) -> None:
        if self.fields:
            raise RegistryInvalid(message, fields=self.fields)


def check_choice(errors: FieldErrors, field: str, value: Any, choices) -> None:
    if value not in choices.values:
        errors.add(field, f"Must be one of: {', '.join(choices.values)}.")


def is_team_member(actor, team: Team) -> bool:
    return actor.groups.filter(pk=team.group_id).exists()


def require_model_permission(actor, model: RegisteredModel, codename: str) -> None:
    """Raise 404 for a model the actor may not see, 403 for a missing right."""
    if not access.has_model_permission(actor, model, access.VIEW):
        raise ModelNotFound("No such model.")
    if not access.has_model_permission(actor, model, codename):
        raise RegistryPermissionDenied(
            f"You may not do this with model “{model.name}”."
        )


def lock_model(model: RegisteredModel) -> RegisteredModel:
    """The model's row, read again under ``SELECT … FOR UPDATE`` (the first lock
    of the documented lock order)."""
    return RegisteredModel.objects.select_for_update().get(pk=model.pk)
