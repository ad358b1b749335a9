"""What every registry service checks first: field errors collected and raised
together, the actor's right on the model, and the model's row lock."""

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from kernel import db
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


_MODEL_COLUMNS = tuple(field.attname for field in RegisteredModel._meta.concrete_fields)


@cache
def _sql() -> dict[str, str]:
    user = get_user_model()
    user_groups = user.groups.through._meta.db_table
    return {
        "name_taken": f"SELECT 1 FROM {RegisteredModel._meta.db_table} WHERE name = %s",  # noqa: S608
        "lock": (
            f"SELECT {', '.join(_MODEL_COLUMNS)} FROM "  # noqa: S608
            f"{RegisteredModel._meta.db_table} WHERE id = %s{db.for_update()}"
        ),
        # A global permission held directly or through a group (Django's
        # ModelBackend rule), for one codename, in one statement.
        "global": (
            f"SELECT 1 FROM {Permission._meta.db_table} p "  # noqa: S608
            f"JOIN {ContentType._meta.db_table} ct ON ct.id = p.content_type_id "
            "WHERE ct.app_label = %s AND p.codename = %s AND (EXISTS (SELECT 1 "
            f"FROM {user.user_permissions.through._meta.db_table} up "
            "WHERE up.user_id = %s AND up.permission_id = p.id) OR EXISTS "
            f"(SELECT 1 FROM {user_groups} ug JOIN "
            f"{Group.permissions.through._meta.db_table} gp "
            "ON gp.group_id = ug.group_id WHERE ug.user_id = %s "
            "AND gp.permission_id = p.id))"
        ),
    }


def holds_globally(actor, permission: str) -> bool:
    """``actor.has_perm(permission)`` without an object, as Django's
    ModelBackend answers it, in one prepared query instead of loading every
    permission the actor holds (cached on the actor for the request)."""
    if not (getattr(actor, "is_authenticated", False) and actor.is_active):
        return False
    if actor.is_superuser:
        return True
    held = actor.__dict__.setdefault("_gatehouse_global_permissions", {})
    if permission not in held:
        app_label, codename = permission.split(".", 1)
        rows = db.rows(_sql()["global"], [app_label, codename, actor.pk, actor.pk])
        held[permission] = bool(rows)
    return held[permission]


def is_model_name_taken(name: str) -> bool:
    return bool(db.rows(_sql()["name_taken"], [name]))


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
    rows = db.rows(_sql()["lock"], [model.pk])
    if not rows:
        raise RegisteredModel.DoesNotExist("No such model.")
    return db.instance(RegisteredModel, _MODEL_COLUMNS, rows[0])
