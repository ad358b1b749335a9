"""Registered models written by MLflow clients: creation (governed fields from
the ``gatehouse.`` tags), descriptions and the model tags MLflow has and the
registry does not."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from kernel import db
from kernel.errors import ServiceError
from kernel.guards import is_digits
from kernel.models import Team
from kernel.roles import PLATFORM_ADMIN, is_team_member, user_has_role
from kernel.teams import team_by_slug, teams_of
from mlflow_bridge import errors, mapping, prompts, selectors
from mlflow_bridge.models import RegisteredModelTag
from mlflow_bridge.services import checks
from mlflow_bridge.services.prompts import (
    check_prompt_model_tag,
    without_entry_tags,
)
from models_registry import access
from models_registry import services as registry
from models_registry.errors import RegistryConflict, RegistryInvalid
from models_registry.models import EntryKind, RegisteredModel


def _team_for(actor, slug: str | None) -> Team:
    if slug is not None:
        team = team_by_slug(slug)
        if team is None:
            raise errors.invalid(
                f"No team has the slug '{slug}' (tag {mapping.TEAM_TAG})."
            )
        if not (is_team_member(actor, team) or user_has_role(actor, PLATFORM_ADMIN)):
            raise errors.denied(
                f"You can only register models for your own teams, not '{slug}'."
            )
        return team
    teams = teams_of(actor)
    if len(teams) == 1:
        return teams[0]
    held = ", ".join(team.slug for team in teams) or "none"
    raise errors.invalid(
        f"Set the tag {mapping.TEAM_TAG} to the slug of the team that owns the "
        f"model: it is taken from your team only when you are in exactly one "
        f"(yours: {held})."
    )


def registered_model_create(
    *, actor, name: str, description: str = "", tags: dict[str, str] | None = None
) -> RegisteredModel:
    """Register a model from an MLflow client: governed fields from the
    ``gatehouse.`` tags or the documented defaults, the other tags stored."""
    checks.validate_name(name)
    tags = dict(tags or {})
    # MLflow marks a prompt with a tag; Gatehouse records it as the entry's kind.
    kind = EntryKind.PROMPT if prompts.is_prompt_tagged(tags) else EntryKind.MODEL
    tags.pop(prompts.IS_PROMPT_TAG, None)
    reserved, plain = checks.split_tags(tags, mapping.MODEL_CREATE_TAGS, "model")
    if not registry.holds_globally(actor, "models_registry.add_registeredmodel"):
        raise errors.denied("Only data scientists register models.")
    exists = errors.MlflowError(
        errors.RESOURCE_ALREADY_EXISTS,
        f"Registered Model (name={name}) already exists.",
    )
    try:
        team = _team_for(actor, reserved.get(mapping.TEAM_TAG))
    except errors.MlflowError as error:
        # A taken name answers first (mlflow.register_model relies on it),
        # whatever the team tag says; the registration checks it otherwise.
        if registry.is_model_name_taken(name):
            raise exists from error
        raise
    values: dict[str, Any] = dict(mapping.MODEL_DEFAULTS)
    for tag, field_name in mapping.MODEL_FIELD_TAGS.items():
        if tag in reserved:
            values[field_name] = reserved[tag]
    if mapping.LATENCY_TAG in reserved:
        latency = reserved[mapping.LATENCY_TAG]
        if not is_digits(latency):
            raise errors.invalid(
                f"Tag {mapping.LATENCY_TAG} is a whole number of milliseconds."
            )
        values["latency_slo_ms"] = int(latency)
    title = reserved.get(mapping.TITLE_TAG) or name
    try:
        with transaction.atomic():
            model = registry.model_create(
                actor=actor,
                name=name,
                title=title,
                team=team,
                description=description or "",
                kind=kind,
                **values,
            )
            _store_new_tags(actor, model, plain)
    except RegistryConflict as error:
        raise exists from error
    except RegistryInvalid as error:
        if error.fields.get("name") == [registry.NAME_TAKEN]:
            raise exists from error
        raise errors.from_service_error(error) from error
    except ServiceError as error:
        raise errors.from_service_error(error) from error
    return model


def _store_new_tags(actor, model: RegisteredModel, tags: dict[str, str]) -> None:
    """A new model's tags, in one insert, audited as ``_store_tags`` would."""
    if not tags:
        return
    now = timezone.now()
    db.insert_many(
        [
            RegisteredModelTag(model=model, key=key, value=value, updated_at=now)
            for key, value in tags.items()
        ]
    )
    audit_record(
        actor=actor,
        action="mlflow.model_tags_set",
        target=model,
        scope=model.name,
        payload={"tags": tags, "previous": dict.fromkeys(tags)},
    )


def _store_tags(actor, model: RegisteredModel, tags: dict[str, str]) -> None:
    """Store new tag values (the caller holds a transaction); unchanged ones are
    not written nor audited."""
    current = dict(
        RegisteredModelTag.objects.filter(model=model, key__in=list(tags)).values_list(
            "key", "value"
        )
    )
    changed = {key: value for key, value in tags.items() if current.get(key) != value}
    if not changed:
        return
    now = timezone.now()
    for key, value in changed.items():
        RegisteredModelTag.objects.update_or_create(
            model=model, key=key, defaults={"value": value, "updated_at": now}
        )
    audit_record(
        actor=actor,
        action="mlflow.model_tags_set",
        target=model,
        scope=model.name,
        payload={
            "tags": changed,
            "previous": {key: current.get(key) for key in changed},
        },
    )


def registered_model_describe(*, actor, name: str, description: str) -> RegisteredModel:
    model = selectors.model_get(actor=actor, name=name)
    try:
        return registry.model_update(actor=actor, model=model, description=description)
    except ServiceError as error:
        raise errors.from_service_error(error) from error


def registered_model_tag_set(*, actor, name: str, key: str, value: str) -> None:
    model = selectors.model_get(actor=actor, name=name)
    if check_prompt_model_tag(model, key, value):
        return
    if not without_entry_tags(model, {key: value}):
        return
    checks.validate_tag(key, value)
    checks.refuse_reserved(key, "model")
    checks.require(actor, model, access.CHANGE, "set tags")
    with transaction.atomic():
        model = checks.lock_model(model)
        _store_tags(actor, model, {key: value})


def registered_model_tag_delete(*, actor, name: str, key: str) -> None:
    """Delete a tag; deleting one that is not there changes nothing (as MLflow)."""
    model = selectors.model_get(actor=actor, name=name)
    check_prompt_model_tag(model, key, None)
    checks.validate_tag(key, "")
    checks.refuse_reserved(key, "model")
    checks.require(actor, model, access.CHANGE, "delete tags")
    with transaction.atomic():
        model = checks.lock_model(model)
        tag = RegisteredModelTag.objects.filter(model=model, key=key).first()
        if tag is None:
            return
        tag.delete()
        audit_record(
            actor=actor,
            action="mlflow.model_tag_deleted",
            target=model,
            scope=model.name,
            payload={"key": key, "previous": tag.value},
        )
