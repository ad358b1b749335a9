"""The checks every MLflow write makes: names, tags and aliases as MLflow
clients send them, the governed ``gatehouse.`` tags, the actor's right on the
model, and the model's row lock."""

from kernel.secrets import secret_errors
from mlflow_bridge import errors, mapping
from mlflow_bridge.models import (
    ALIAS_MAX_LENGTH,
    TAG_KEY_MAX_LENGTH,
    TAG_VALUE_MAX_LENGTH,
)
from models_registry import access
from models_registry.models import RegisteredModel


def validate_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise errors.invalid("Missing value for required parameter 'name'.")
    if len(name) > mapping.NAME_MAX_LENGTH or not mapping.NAME_PATTERN.match(name):
        raise errors.invalid(
            f"Invalid model name '{name}'. Gatehouse model names are slugs: at most "
            f"{mapping.NAME_MAX_LENGTH} letters, digits, hyphens and underscores."
        )


def validate_tag(key: str, value: str) -> None:
    if not isinstance(key, str) or not key:
        raise errors.invalid("Missing value for required parameter 'key'.")
    if not isinstance(value, str):
        raise errors.invalid(f"Invalid value for tag '{key}': must be a string.")
    if len(key) > TAG_KEY_MAX_LENGTH:
        raise errors.invalid(
            f"Tag key '{key[:40]}…' exceeds the maximum length of "
            f"{TAG_KEY_MAX_LENGTH} characters."
        )
    if len(value) > TAG_VALUE_MAX_LENGTH:
        raise errors.invalid(
            f"Value of tag '{key}' exceeds the maximum length of "
            f"{TAG_VALUE_MAX_LENGTH} characters."
        )
    if problems := secret_errors({key: value}):
        raise errors.invalid(f"Tag '{key}': {problems[0]}")


def validate_alias(alias: str) -> None:
    if not isinstance(alias, str) or not alias:
        raise errors.invalid("Registered model alias name cannot be empty.")
    if not mapping.ALIAS_PATTERN.match(alias) or len(alias) > ALIAS_MAX_LENGTH:
        raise errors.invalid(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            f"underscores (_), and dashes (-), at most {ALIAS_MAX_LENGTH} of them."
        )


def validate_alias_not_reserved(alias: str) -> None:
    if alias.lower() == mapping.LATEST_ALIAS:
        raise errors.invalid("'latest' alias name (case insensitive) is reserved.")
    if mapping.VERSION_ALIAS_PATTERN.match(alias):
        raise errors.invalid(f"Version alias name '{alias}' is reserved.")


def split_tags(tags: dict[str, str], allowed: tuple[str, ...], what: str):
    """Governed ``gatehouse.`` tags (checked against ``allowed``) and the rest."""
    reserved, plain = {}, {}
    for key, value in tags.items():
        validate_tag(key, value)
        if mapping.is_reserved(key):
            if key not in allowed:
                raise errors.invalid(
                    f"Unknown tag '{key}': the gatehouse. tags a {what} takes are "
                    f"{', '.join(allowed)}."
                )
            reserved[key] = value
        else:
            plain[key] = value
    return reserved, plain


def refuse_reserved(key: str, what: str) -> None:
    if mapping.is_reserved(key):
        raise errors.invalid(
            f"Tag '{key}' is not a tag in Gatehouse: it shows the {what}'s governed "
            "record and cannot be set or deleted. Change the record in Gatehouse."
        )


def require(actor, model: RegisteredModel, codename: str, doing: str) -> None:
    """Refuse an actor without ``codename`` on the model. The model was found
    through the selectors, which see only the models the actor may view, so a
    model the actor may not see has already been answered "not found"."""
    if not access.has_model_permission(actor, model, codename):
        raise errors.denied(f"You may not {doing} of model '{model.name}'.")


def lock_model(model: RegisteredModel) -> RegisteredModel:
    return RegisteredModel.objects.select_for_update().get(pk=model.pk)
