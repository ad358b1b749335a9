"""Prompts written by MLflow clients (``mlflow.genai.register_prompt`` and
friends): a prompt entry's versions registered by content, the clean-up of a
prompt whose first version failed, and the prompt tags that are content."""

from rest_framework.exceptions import ParseError

from kernel.errors import ServiceError
from kernel.guards import loads_checked
from mlflow_bridge import errors, mapping, prompts, selectors
from mlflow_bridge.services import checks
from models_registry import access
from models_registry import services as registry
from models_registry.models import EntryKind, ModelVersion, RegisteredModel
from models_registry.prompt_text import canonical_json


def prompt_version_create(
    *,
    actor,
    model: RegisteredModel,
    source: str,
    description: str,
    tags: dict[str, str],
) -> tuple[ModelVersion, bool]:
    """Register a prompt version from the tags MLflow sends; the same content
    again answers the version that has it."""
    if source not in prompts.SOURCE_PLACEHOLDERS:
        raise errors.invalid(
            f"{model.name} is a prompt: its versions are registered with "
            "mlflow.genai.register_prompt, whose content is the template, not a "
            f"source ('{source[:100]}')."
        )
    for key, value in tags.items():
        checks.validate_tag(key, "" if key in prompts.CONTENT_TAGS else value)
    template, response_format, model_config, plain = prompts.content_from_tags(tags)
    plain = without_entry_tags(model, plain)
    for key in plain:
        checks.refuse_reserved(key, "version")
    try:
        return registry.prompt_version_register(
            actor=actor,
            model=model,
            template=template,
            response_format=response_format,
            model_config=model_config,
            commit_message=description or "",
            tags=plain,
        )
    except ServiceError as error:
        raise errors.from_service_error(error) from error


def without_entry_tags(model: RegisteredModel, tags: dict[str, str]) -> dict[str, str]:
    """The tags without the entry's governed ones that say what is recorded:
    ``register_prompt`` sends a prompt's tags to the entry and to every version
    (and sets them again on the entry for later versions), so a prompt
    registered with ``gatehouse.risk_class`` sends it each time. One that says
    something else is refused."""
    if model.kind != EntryKind.PROMPT:
        return tags
    rendered = selectors.rendered_model_tags(model)
    kept = {}
    for key, value in tags.items():
        if key not in mapping.MODEL_CREATE_TAGS:
            kept[key] = value
        elif rendered.get(key) != value:
            raise errors.invalid(
                f"Tag '{key}' says '{value}' but {model.name} records "
                f"'{rendered.get(key, '')}': governed fields are changed in Gatehouse."
            )
    return kept


def refuse_prompt_on_model(model: RegisteredModel, tags: dict[str, str]) -> None:
    if model.kind != EntryKind.PROMPT and prompts.is_prompt_tagged(tags):
        raise errors.invalid(
            f"Model '{model.name}' exists with the same name: a prompt version "
            "cannot be registered under a model. Choose another name for the prompt."
        )


def registered_model_delete(*, actor, name: str) -> None:
    """Only a prompt that never got a version is deleted (the clean-up MLflow
    clients make when a prompt's first version is refused); everything else
    stays."""
    model = selectors.model_get(actor=actor, name=name)
    if model.kind == EntryKind.PROMPT and not model.last_version_number:
        checks.require(actor, model, access.CHANGE, "delete the prompt")
        try:
            registry.prompt_discard(actor=actor, model=model)
        except ServiceError as error:
            raise errors.from_service_error(error) from error
        return
    raise errors.denied(
        f"Gatehouse does not delete '{model.name}': it stays with its versions, "
        "approvals and deployments, which governance and the audit log keep for "
        "good (only a prompt that never got a version is removed)."
    )


def _same_config(current: dict | None, sent: str) -> bool:
    try:
        value = loads_checked(sent) if sent else None
    except ParseError:  # malformed, or nested deeper than the kernel allows
        return False
    return canonical_json(current or None) == canonical_json(value or None)


def check_content_tag(version, key: str, value: str | None) -> bool:
    """Whether a tag write on a version is a content tag (then it changes
    nothing when it says what is stored, and is refused otherwise)."""
    if key not in prompts.CONTENT_TAGS:
        return False
    model = version.model
    content = getattr(version, "prompt", None)
    if getattr(model, "kind", EntryKind.MODEL) != EntryKind.PROMPT or content is None:
        return False
    current = prompts.rendered_version_tags(content).get(key)
    if key == prompts.MODEL_CONFIG_TAG and value is not None:
        unchanged = _same_config(content.model_config, value)
    else:
        unchanged = current == value
    if unchanged:
        return True
    raise errors.invalid(
        f"Version {version.version} of prompt '{model.name}' is immutable: its "
        "template, response format and model config are its identity (content "
        "sha256) and what its evaluations and approvals were about. Register a "
        "new version with the new content (mlflow.genai.register_prompt with "
        "model_config=...)."
    )


def check_prompt_model_tag(model, key: str, value: str | None) -> bool:
    """Whether a model tag write is the prompt marker (then it changes nothing
    when it matches the entry's kind, and is refused otherwise)."""
    if key != prompts.IS_PROMPT_TAG:
        return False
    is_prompt = getattr(model, "kind", EntryKind.MODEL) == EntryKind.PROMPT
    if value is not None and (value.lower() == "true") == is_prompt:
        return True
    raise errors.invalid(
        f"Tag {key} shows whether '{model.name}' is a prompt, fixed when it was "
        "registered: it cannot be set or deleted."
    )
