"""Prompt versions: registration by content, and the clean-up of a prompt
entry that never got a version.

A prompt version is a registry version like a model's (gapless number under
the entry's row lock, card, audit event) whose artifact is its content: the
format ``prompt`` and the sha256 of the canonical template, chat messages,
response format and model config. Registering the same content again returns
the same version; the content row is immutable.
"""

from typing import Any

from django.db import transaction

from audit.services import audit_record
from models_registry import access, validation
from models_registry.errors import RegistryInvalid, RegistryPermissionDenied
from models_registry.models import (
    PROMPT_CARD_FIELDS,
    ArtifactFormat,
    EntryKind,
    ModelVersion,
    PromptContent,
    RegisteredModel,
)
from models_registry.prompt_text import PromptBody, canonical_json, check_prompt
from models_registry.services.preconditions import (
    FieldErrors,
    lock_model,
    require_model_permission,
)
from models_registry.services.versions import _registered, _version_record


def text_field_errors(
    errors: FieldErrors, *, commit_message, tags, card, unknown_card: str
) -> None:
    """The free texts of a prompt or LLM application version: tags (text to
    text), commit message and card (the four prompt card fields), none holding
    a credential."""
    if not isinstance(tags, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in tags.items()
    ):
        errors.add("tags", "Must be an object of text keys to text values.")
    else:
        errors.add("tags", validation.secret_errors(tags))
    if not isinstance(commit_message, str):
        errors.add("commit_message", "Must be text.")
    else:
        errors.add("commit_message", validation.secret_errors(commit_message))
    for field in sorted(set(card) - set(PROMPT_CARD_FIELDS)):
        errors.add(f"card.{field}", unknown_card)
    for field, text in card.items():
        errors.add(f"card.{field}", validation.secret_errors(text))


def prompt_body(
    *, template: Any, response_format: Any = None, model_config: Any = None
) -> PromptBody:
    """The checked content, or ``RegistryInvalid`` with every field error."""
    body, problems = check_prompt(template, response_format, model_config)
    if body is None:
        raise RegistryInvalid("The prompt version was not registered.", fields=problems)
    return body


def prompt_version_register(
    *,
    actor,
    model: RegisteredModel,
    template: Any,
    response_format: Any = None,
    model_config: Any = None,
    commit_message: str = "",
    tags: dict[str, str] | None = None,
    card: dict[str, str] | None = None,
) -> tuple[ModelVersion, bool]:
    """Register a version of a prompt entry; ``created`` is False when a version
    with the same content exists (it is returned, nothing is written)."""
    require_model_permission(actor, model, access.REGISTER)
    if model.kind != EntryKind.PROMPT:
        raise RegistryInvalid(
            "The prompt version was not registered.",
            fields={"name": [f"{model.name} is a model, not a prompt."]},
        )
    body = prompt_body(
        template=template, response_format=response_format, model_config=model_config
    )
    tags, card = tags or {}, card or {}
    errors = FieldErrors()
    text_field_errors(
        errors,
        commit_message=commit_message,
        tags=tags,
        card=card,
        unknown_card="Unknown prompt card field.",
    )
    errors.raise_if_any("The prompt version was not registered.")
    digest = body.content_hash
    size = len(canonical_json(body.canonical()).encode("utf-8"))
    with transaction.atomic():
        model = lock_model(model)
        existing = _registered(model, digest)
        if existing is not None:
            return existing, False
        version, _ = _version_record(
            actor=actor,
            model=model,
            artifact={
                "uri": f"prompts:/{model.name}/sha256:{digest}",
                "sha256": digest,
                "size_bytes": size,
                "format": ArtifactFormat.PROMPT,
            },
            training_run=None,
            description=commit_message,
            tags=tags,
            semantic_version="",
            card=card,
            checked=True,
        )
        content = PromptContent.objects.create(
            version=version,
            template_type=body.template_type,
            template=body.template,
            messages=body.messages,
            response_format=body.response_format,
            model_config=body.model_config,
            variables=body.variables,
            content_hash=digest,
        )
        audit_record(
            actor=actor,
            action="prompt.registered",
            target=version,
            scope=model.name,
            payload={
                "version": version.version,
                "content_hash": digest,
                "template_type": content.template_type,
                "variables": content.variables,
                "model_config": content.model_config,
                "has_response_format": content.response_format is not None,
            },
        )
    ModelVersion.prompt.related.set_cached_value(version, content)
    return version, True


def prompt_discard(*, actor, model: RegisteredModel) -> None:
    """Delete a prompt entry that has no version yet: what a client's clean-up
    after a failed first registration asks. Anything with a version stays (and
    every model does)."""
    require_model_permission(actor, model, access.CHANGE)
    with transaction.atomic():
        model = lock_model(model)
        if model.kind != EntryKind.PROMPT or model.last_version_number:
            raise RegistryPermissionDenied(
                f"Gatehouse does not delete {model.name}: only a prompt that never "
                "got a version can be removed; everything else stays with its "
                "versions, approvals and audit trail."
            )
        audit_record(
            actor=actor,
            action="prompt.discarded",
            target=model,
            scope=model.name,
            payload={"reason": "no version was registered"},
        )
        RegisteredModel.objects.filter(pk=model.pk).delete()
