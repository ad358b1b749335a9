"""Model versions: registration (with or without a new training run), their
description and tags, and the approval mark set by approvals.

Lock order: the registered model first, then its versions (by pk), then the
audit chain (taken by ``audit_record``). The model row lock hands out the
gapless version numbers."""

from datetime import datetime
from functools import cache
from typing import Any

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.services import audit_record
from kernel import db
from models_registry import access, validation
from models_registry.errors import (
    RegistryConflict,
    RegistryInvalid,
)
from models_registry.models import (
    CARD_FIELDS,
    Artifact,
    ArtifactFormat,
    EntryKind,
    ModelCard,
    ModelCardRevision,
    ModelVersion,
    RegisteredModel,
    TrainingRun,
    VersionStatus,
)
from models_registry.services.preconditions import (
    FieldErrors,
    lock_model,
    require_model_permission,
)
from models_registry.services.runs import run_record, run_values


def _artifact_errors(errors: FieldErrors, artifact: dict[str, Any]) -> None:
    errors.add("artifact.uri", validation.uri_errors(artifact.get("uri", "")))
    errors.add("artifact.sha256", validation.sha256_errors(artifact.get("sha256", "")))
    size = artifact.get("size_bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        errors.add("artifact.size_bytes", "Must be a whole number of bytes.")
    if artifact.get("format") not in ArtifactFormat.values:
        errors.add(
            "artifact.format", f"Must be one of: {', '.join(ArtifactFormat.values)}."
        )
    errors.add(
        "artifact.feature_spec",
        validation.feature_spec_errors(artifact.get("feature_spec", [])),
    )
    errors.add(
        "artifact.preprocessing_code_version",
        validation.secret_errors(artifact.get("preprocessing_code_version", "")),
    )


def model_version_register(
    *,
    actor,
    model: RegisteredModel,
    artifact: dict[str, Any],
    training_run: TrainingRun | None = None,
    description: str = "",
    tags: dict[str, str] | None = None,
    semantic_version: str = "",
    card: dict[str, str] | None = None,
) -> tuple[ModelVersion, bool]:
    """Register a new version of a model, with its artifact, in one step.

    Idempotent: registering the same artifact sha256 again returns the existing
    version (``created`` is False). Version numbers are gapless per model: they
    are handed out under a lock on the model row.
    """
    require_model_permission(actor, model, access.REGISTER)
    values = _version_values(
        model=model,
        artifact=artifact,
        training_run=training_run,
        description=description,
        tags=tags,
        semantic_version=semantic_version,
        card=card,
    )
    with transaction.atomic():
        return _version_record(actor=actor, model=lock_model(model), **values)


def model_version_register_with_run(
    *,
    actor,
    model: RegisteredModel,
    artifact: dict[str, Any],
    run: dict[str, Any] | None = None,
    training_run: TrainingRun | None = None,
    description: str = "",
    tags: dict[str, str] | None = None,
    semantic_version: str = "",
    card: dict[str, str] | None = None,
) -> tuple[ModelVersion, bool]:
    """Record the training run (or reuse ``training_run``) and register the version
    in one transaction: both are written, or neither.

    ``run`` holds the keyword arguments of ``training_run_create`` (inputs as
    ``(snapshot, role)`` pairs); its field errors come back prefixed ``run.``.
    Re-sending a registration (same artifact sha256) returns the existing version
    and records nothing, not even a new run.

    The actor's right is checked and the model's row locked once, for the run and
    the version together.
    """
    if run is not None and training_run is not None:
        raise RegistryInvalid(
            "The version was not registered.",
            fields={"run": ["Give either a run or an existing run, not both."]},
        )
    require_model_permission(actor, model, access.REGISTER)
    sha256 = artifact.get("sha256") if isinstance(artifact, dict) else None
    with transaction.atomic():
        # The model row first (the documented lock order): a concurrent re-send
        # waits here and then finds the version instead of recording the run.
        model = lock_model(model)
        existing = _registered(model, sha256) if sha256 else None
        if run is not None and existing is None:
            try:
                training_run, _ = run_record(
                    actor=actor, model=model, run=run_values(model=model, **run)
                )
            except (RegistryInvalid, RegistryConflict) as error:
                raise type(error)(
                    "The version was not registered: " + error.message,
                    fields={f"run.{key}": value for key, value in error.fields.items()},
                ) from error
        values = _version_values(
            model=model,
            artifact=artifact,
            training_run=training_run,
            description=description,
            tags=tags,
            semantic_version=semantic_version,
            card=card,
        )
        if existing is not None:
            return existing, False
        return _version_record(actor=actor, model=model, checked=True, **values)


def _registered(model: RegisteredModel, sha256) -> ModelVersion | None:
    """The model's version of the artifact with this sha256, if any (the
    caller holds the model's row lock)."""
    # Through the artifact's (model, sha256) unique index: at most one
    # artifact, and one version per artifact. A prepared query answers the
    # usual case (none); the ORM reads the version when there is one.
    if not db.rows(_registered_sql(), [model.pk, sha256]):
        return None
    found = ModelVersion.objects.select_related("artifact").filter(
        artifact__model_id=model.pk, artifact__sha256=sha256
    )
    return next(iter(found.order_by()[:1]), None)


@cache
def _numbered_sql() -> str:
    """The model's last version number, handed out under its row lock."""
    return (
        f"UPDATE {RegisteredModel._meta.db_table} "  # noqa: S608
        "SET last_version_number = %s WHERE id = %s"
    )


@cache
def _registered_sql() -> str:
    return (
        f"SELECT 1 FROM {Artifact._meta.db_table} a JOIN "  # noqa: S608
        f"{ModelVersion._meta.db_table} v ON v.artifact_id = a.id "
        "WHERE a.model_id = %s AND a.sha256 = %s"
    )


def _version_values(
    *,
    model: RegisteredModel,
    artifact: dict[str, Any],
    training_run: TrainingRun | None,
    description: str,
    tags: dict[str, str] | None,
    semantic_version: str,
    card: dict[str, str] | None,
) -> dict[str, Any]:
    """The version's fields, checked (``RegistryInvalid`` with every field
    error) and with their defaults filled in."""
    tags = tags or {}
    card = card or {}
    errors = FieldErrors()
    if model.kind == EntryKind.LLM_APP:
        errors.add(
            "artifact",
            f"{model.name} is an LLM application: its versions pin prompt "
            "versions, a base model and parameters (POST "
            f"/api/v1/models/{model.name}/llm-app-versions), not an artifact.",
        )
    _artifact_errors(errors, artifact)
    if not isinstance(tags, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in tags.items()
    ):
        errors.add("tags", "Must be an object of text keys to text values.")
    errors.add("tags", validation.secret_errors(tags))
    errors.add("description", validation.secret_errors(description))
    if semantic_version and not validation.SEMVER.match(semantic_version):
        errors.add("semantic_version", "Must be a semantic version such as 2.1.0.")
    if training_run is not None and training_run.model_id != model.pk:
        errors.add("training_run", "The run belongs to another model.")
    for field in set(card) - set(CARD_FIELDS):
        errors.add(f"card.{field}", "Unknown model card field.")
    for field, text in card.items():
        errors.add(f"card.{field}", validation.secret_errors(text))
    errors.raise_if_any("The version was not registered.")
    return {
        "artifact": artifact,
        "training_run": training_run,
        "description": description,
        "tags": tags,
        "semantic_version": semantic_version,
        "card": card,
    }


def _version_record(
    *,
    actor,
    model: RegisteredModel,
    artifact: dict[str, Any],
    training_run: TrainingRun | None,
    description: str,
    tags: dict[str, str],
    semantic_version: str,
    card: dict[str, str],
    checked: bool = False,
) -> tuple[ModelVersion, bool]:
    """Write a version checked by ``_version_values``, or return the one with
    the same artifact sha256 (unless the caller ``checked`` there is none).
    ``model`` is the row locked by the caller, in an open transaction: its
    ``last_version_number`` hands out the next number."""
    existing = None if checked else _registered(model, artifact["sha256"])
    if existing is not None:
        return existing, False
    model.last_version_number += 1
    db.execute(_numbered_sql(), [model.last_version_number, model.pk])
    stored_artifact = Artifact(
        model=model,
        uri=artifact["uri"],
        sha256=artifact["sha256"],
        size_bytes=artifact["size_bytes"],
        format=artifact["format"],
        preprocessing_code_version=artifact.get("preprocessing_code_version", ""),
        feature_spec=artifact.get("feature_spec", []),
        training_run=training_run,
        created_by=actor,
    )
    version = ModelVersion(
        model=model,
        version=model.last_version_number,
        semantic_version=semantic_version,
        artifact=stored_artifact,
        training_run=training_run,
        description=description,
        tags=tags,
        registered_by=actor,
    )
    now = timezone.now()
    model_card = ModelCard(
        version=version, revision=1, updated_at=now, updated_by=actor, **card
    )
    # The artifact, the version, its card and the card's first revision: one
    # statement (each row takes the key of the one before).
    db.insert_together(
        stored_artifact,
        version,
        model_card,
        ModelCardRevision(
            card=model_card,
            revision=1,
            content=model_card.content(),
            edited_by=actor,
            edited_at=now,
        ),
    )
    audit_record(
        actor=actor,
        action="version.registered",
        target=version,
        scope=model.name,
        payload={
            "version": version.version,
            "semantic_version": semantic_version,
            "artifact": {
                "id": stored_artifact.pk,
                "uri": stored_artifact.uri,
                "sha256": stored_artifact.sha256,
                "size_bytes": stored_artifact.size_bytes,
                "format": stored_artifact.format,
                "preprocessing_code_version": (
                    stored_artifact.preprocessing_code_version
                ),
            },
            "training_run": training_run.external_run_id if training_run else None,
            "tags": tags,
        },
    )
    return version, True


def model_version_update(
    *,
    actor,
    version: ModelVersion,
    description: str | None = None,
    tags: dict | None = None,
) -> ModelVersion:
    require_model_permission(actor, version.model, access.CHANGE)
    errors = FieldErrors()
    if tags is not None:
        if not isinstance(tags, dict) or not all(
            isinstance(key, str) and isinstance(value, str)
            for key, value in tags.items()
        ):
            errors.add("tags", "Must be an object of text keys to text values.")
        errors.add("tags", validation.secret_errors(tags))
    if description is not None:
        errors.add("description", validation.secret_errors(description))
    errors.raise_if_any("The version was not changed.")
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        diff = {}
        if description is not None and description != version.description:
            diff["description"] = [version.description, description]
            version.description = description
        if tags is not None and tags != version.tags:
            diff["tags"] = [version.tags, tags]
            version.tags = tags
        if diff:
            version.save(update_fields=[*diff, "updated_at"])
            audit_record(
                actor=actor,
                action="version.updated",
                target=version,
                scope=version.model.name,
                payload={"diff": diff},
            )
    return version


def model_version_mark_approved(
    *, version_id: int, is_production: bool, now: datetime
) -> None:
    """Mark a version approved once a deployment of it is executed; the first
    production deployment also stamps ``production_approved_at``.

    Called by approvals inside its own transaction (which holds the model's row
    lock and records the audit event of the deployment)."""
    changes: dict[str, Any] = {"status": VersionStatus.APPROVED}
    if is_production:
        changes["production_approved_at"] = Coalesce(
            F("production_approved_at"), Value(now)
        )
    ModelVersion.objects.filter(pk=version_id).update(**changes)
