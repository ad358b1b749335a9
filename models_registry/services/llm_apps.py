"""LLM application versions: registration by what they pin.

An LLM application version pins the prompt versions it runs, its base model
and provider (``provider:model``), its generation parameters (temperature,
max tokens, response format) and, for a retrieval app, the dataset snapshot
of its index. It is a registry version like a prompt's (gapless number under
the entry's row lock, card, audit event) whose artifact is the sha256 of the
canonical pins: registering the same pins again returns the same version; the
pin rows are immutable.
"""

import hashlib
import re
from typing import Any

from django.db import transaction

from audit.services import audit_record
from kernel.numbers import is_finite_number
from models_registry import access, validation
from models_registry.errors import RegistryInvalid
from models_registry.models import (
    ArtifactFormat,
    EntryKind,
    LlmAppContent,
    LlmAppPromptPin,
    ModelVersion,
    RegisteredModel,
    ResponseFormat,
)
from models_registry.prompt_text import canonical_json
from models_registry.selectors import dataset_list
from models_registry.services.preconditions import (
    FieldErrors,
    lock_model,
    require_model_permission,
)
from models_registry.services.prompts import text_field_errors
from models_registry.services.versions import _registered, _version_record

NAME = re.compile(r"[-a-zA-Z0-9_]{1,100}")
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
MESSAGE = "The LLM application version was not registered."
MAX_PROMPTS = 20
MAX_TOKENS_LIMIT = 1_000_000
TEMPERATURE_RANGE = (0.0, 2.0)
# provider:model, e.g. openai:gpt-4.1, vllm:llama-3.1-8b-instruct,
# anthropic:claude-sonnet-4-5, bedrock:meta.llama3-70b-instruct-v1:0.
BASE_MODEL = re.compile(
    r"(?P<provider>[a-z][a-z0-9_-]{0,39}):(?P<model>[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199})"
)


def _base_model_errors(errors: FieldErrors, base_model: Any):
    if not isinstance(base_model, str) or not (
        match := BASE_MODEL.fullmatch(base_model)
    ):
        errors.add(
            "base_model",
            "Write it as provider:model in lower-case provider letters, e.g. "
            "openai:gpt-4.1, anthropic:claude-sonnet-4-5 or "
            "vllm:llama-3.1-8b-instruct.",
        )
        return None
    secrets = validation.secret_errors(base_model)
    errors.add("base_model", secrets)
    return None if secrets else (match["provider"], match["model"])


def _parameter_errors(
    errors: FieldErrors, temperature: Any, max_tokens: Any, response_format: Any
) -> None:
    low, high = TEMPERATURE_RANGE
    if not is_finite_number(temperature) or not low <= temperature <= high:
        errors.add("temperature", f"Must be a finite number from {low:g} to {high:g}.")
    if (
        isinstance(max_tokens, bool)
        or not isinstance(max_tokens, int)
        or not 1 <= max_tokens <= MAX_TOKENS_LIMIT
    ):
        errors.add(
            "max_tokens", f"Must be a whole number from 1 to {MAX_TOKENS_LIMIT:,}."
        )
    if response_format not in ResponseFormat.values:
        errors.add(
            "response_format", f"Must be one of: {', '.join(ResponseFormat.values)}."
        )


def _pinned_prompts(actor, errors: FieldErrors, prompts: Any) -> list[ModelVersion]:
    """The prompt versions named by ``[{"name": ..., "version": N}, ...]`` that
    the actor may see, in the order given (one query)."""
    if not isinstance(prompts, list) or not 1 <= len(prompts) <= MAX_PROMPTS:
        errors.add("prompts", f"Pin from 1 to {MAX_PROMPTS} prompt versions.")
        return []
    wanted: list[tuple[str, int]] = []
    for index, pin in enumerate(prompts):
        name = pin.get("name") if isinstance(pin, dict) else None
        number = pin.get("version") if isinstance(pin, dict) else None
        if (
            not isinstance(name, str)
            or not NAME.fullmatch(name)
            or isinstance(number, bool)
            or not isinstance(number, int)
            or not 1 <= number <= INT_MAX
        ):
            errors.add(
                f"prompts.{index}",
                "Each pin is {“name”: a prompt's name, “version”: its number}.",
            )
        else:
            wanted.append((name, number))
    if len(set(wanted)) != len(wanted):
        errors.add("prompts", "A prompt version is pinned twice.")
    if errors.fields or not wanted:
        return []
    names = {name for name, _ in wanted}
    found = {
        (v.model.name, v.version): v
        for v in ModelVersion.objects.select_related("model", "prompt").filter(
            model__in=access.models_for(actor),
            model__kind=EntryKind.PROMPT,
            model__name__in=names,
            version__in={number for _, number in wanted},
        )
    }
    pinned = []
    for index, key in enumerate(wanted):
        if key not in found:
            errors.add(
                f"prompts.{index}",
                f"No prompt version {key[0]} v{key[1]} you may see.",
            )
        else:
            pinned.append(found[key])
    return pinned


def _index_snapshot(actor, errors: FieldErrors, snapshot_id: Any):
    if snapshot_id is None:
        return None
    if (
        isinstance(snapshot_id, bool)
        or not isinstance(snapshot_id, int)
        or not 1 <= snapshot_id <= BIGINT_MAX
    ):
        errors.add("index_snapshot", "Must be a dataset snapshot's id.")
        return None
    snapshot = dataset_list(actor=actor).filter(pk=snapshot_id).first()
    if snapshot is None:
        errors.add("index_snapshot", f"No dataset snapshot {snapshot_id} you may see.")
    return snapshot


def llm_app_version_register(
    *,
    actor,
    model: RegisteredModel,
    prompts: Any,
    base_model: Any,
    temperature: Any,
    max_tokens: Any,
    response_format: Any = ResponseFormat.TEXT,
    index_snapshot: Any = None,
    commit_message: str = "",
    tags: dict[str, str] | None = None,
    card: dict[str, str] | None = None,
) -> tuple[ModelVersion, bool]:
    """Register a version of an LLM application; ``created`` is False when a
    version with the same pins exists (it is returned, nothing is written)."""
    require_model_permission(actor, model, access.REGISTER)
    if model.kind != EntryKind.LLM_APP:
        raise RegistryInvalid(
            MESSAGE,
            fields={"name": [f"{model.name} is not an LLM application."]},
        )
    tags, card = tags or {}, card or {}
    errors = FieldErrors()
    provider_model = _base_model_errors(errors, base_model)
    _parameter_errors(errors, temperature, max_tokens, response_format)
    text_field_errors(
        errors,
        commit_message=commit_message,
        tags=tags,
        card=card,
        unknown_card="Unknown card field of an LLM application.",
    )
    pinned = _pinned_prompts(actor, errors, prompts)
    snapshot = _index_snapshot(actor, errors, index_snapshot)
    errors.raise_if_any(MESSAGE)
    provider, model_name = provider_model
    canonical = {
        "prompts": [[v.model.name, v.version, v.prompt.content_hash] for v in pinned],
        "provider": provider,
        "model": model_name,
        "temperature": float(temperature),
        "max_tokens": max_tokens,
        "response_format": response_format,
        "index_snapshot": [snapshot.pk, snapshot.sha256] if snapshot else None,
    }
    text = canonical_json(canonical).encode("utf-8")
    digest = hashlib.sha256(text).hexdigest()
    with transaction.atomic():
        model = lock_model(model)
        existing = _registered(model, digest)
        if existing is not None:
            return existing, False
        version, _ = _version_record(
            actor=actor,
            model=model,
            artifact={
                "uri": f"llm-apps:/{model.name}/sha256:{digest}",
                "sha256": digest,
                "size_bytes": len(text),
                "format": ArtifactFormat.LLM_APP,
            },
            training_run=None,
            description=commit_message,
            tags=tags,
            semantic_version="",
            card=card,
            checked=True,
        )
        content = LlmAppContent.objects.create(
            version=version,
            provider=provider,
            model_name=model_name,
            temperature=float(temperature),
            max_tokens=max_tokens,
            response_format=response_format,
            index_snapshot=snapshot,
            content_hash=digest,
        )
        LlmAppPromptPin.objects.bulk_create(
            LlmAppPromptPin(app=content, prompt_version=prompt, position=position)
            for position, prompt in enumerate(pinned)
        )
        audit_record(
            actor=actor,
            action="llm_app.registered",
            target=version,
            scope=model.name,
            payload={
                "version": version.version,
                "content_hash": digest,
                "prompts": [f"{v.model.name}/{v.version}" for v in pinned],
                "base_model": content.base_model,
                "temperature": content.temperature,
                "max_tokens": content.max_tokens,
                "response_format": content.response_format,
                "index_snapshot": snapshot.pk if snapshot else None,
            },
        )
    ModelVersion.llm_app.related.set_cached_value(version, content)
    return version, True
