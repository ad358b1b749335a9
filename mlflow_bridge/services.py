"""Writes made by MLflow clients. Each is one transaction with its audit event.

Registry records are written through ``models_registry.services`` and
deployment requests through ``approvals.services``, so their rules and audit
events apply unchanged; this module adds what MLflow has and the registry does
not (model tags, free aliases, version links) and the governed aliases.

Lock order: the registered model row, then its versions, then the audit chain
(as in the registry and the approvals).
"""

import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from approvals import services as approvals
from approvals.models import (
    Deployment,
    DeploymentRequest,
    DeploymentStatus,
    Environment,
    RequestStatus,
    Strategy,
)
from audit.services import audit_record
from kernel.errors import ServiceError
from kernel.models import Team
from kernel.roles import PLATFORM_ADMIN, user_has_role
from mlflow_bridge import errors, mapping, sources
from mlflow_bridge.models import (
    ALIAS_MAX_LENGTH,
    TAG_KEY_MAX_LENGTH,
    TAG_VALUE_MAX_LENGTH,
    GovernedAlias,
    ModelAlias,
    RegisteredModelTag,
    VersionLink,
)
from models_registry import access, validation
from models_registry import services as registry
from models_registry.errors import RegistryConflict
from models_registry.models import ModelVersion, RegisteredModel, TrainingRun

# --- Checks --------------------------------------------------------------------------


def validate_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise errors.invalid("Missing value for required parameter 'name'.")
    if len(name) > mapping.NAME_MAX_LENGTH or not mapping.NAME_PATTERN.match(name):
        raise errors.invalid(
            f"Invalid model name '{name}'. Gatehouse model names are slugs: at most "
            f"{mapping.NAME_MAX_LENGTH} letters, digits, hyphens and underscores."
        )


def _validate_tag(key: str, value: str) -> None:
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
    if problems := validation.secret_errors({key: value}):
        raise errors.invalid(f"Tag '{key}': {problems[0]}")


def validate_alias(alias: str) -> None:
    if not isinstance(alias, str) or not alias:
        raise errors.invalid("Registered model alias name cannot be empty.")
    if not mapping.ALIAS_PATTERN.match(alias) or len(alias) > ALIAS_MAX_LENGTH:
        raise errors.invalid(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, "
            f"underscores (_), and dashes (-), at most {ALIAS_MAX_LENGTH} of them."
        )


def _validate_alias_reserved(alias: str) -> None:
    if alias.lower() == mapping.LATEST_ALIAS:
        raise errors.invalid("'latest' alias name (case insensitive) is reserved.")
    if mapping.VERSION_ALIAS_PATTERN.match(alias):
        raise errors.invalid(f"Version alias name '{alias}' is reserved.")


def _split_tags(tags: dict[str, str], allowed: tuple[str, ...], what: str):
    """Governed ``gatehouse.`` tags (checked against ``allowed``) and the rest."""
    reserved, plain = {}, {}
    for key, value in tags.items():
        _validate_tag(key, value)
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


def _refuse_reserved(key: str, what: str) -> None:
    if mapping.is_reserved(key):
        raise errors.invalid(
            f"Tag '{key}' is not a tag in Gatehouse: it shows the {what}'s governed "
            "record and cannot be set or deleted. Change the record in Gatehouse."
        )


def _require(actor, model: RegisteredModel, codename: str, doing: str) -> None:
    if not access.has_model_permission(actor, model, access.VIEW):
        raise errors.does_not_exist(
            f"Registered Model with name={model.name} not found"
        )
    if not access.has_model_permission(actor, model, codename):
        raise errors.denied(f"You may not {doing} of model '{model.name}'.")


def _lock_model(model: RegisteredModel) -> RegisteredModel:
    return RegisteredModel.objects.select_for_update().get(pk=model.pk)


# --- Registered models ---------------------------------------------------------------


def _team_for(actor, slug: str | None) -> Team:
    if slug is not None:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            raise errors.invalid(
                f"No team has the slug '{slug}' (tag {mapping.TEAM_TAG})."
            )
        is_member = actor.groups.filter(pk=team.group_id).exists()
        if not (is_member or user_has_role(actor, PLATFORM_ADMIN)):
            raise errors.denied(
                f"You can only register models for your own teams, not '{slug}'."
            )
        return team
    teams = list(Team.objects.filter(group__user=actor).order_by("slug"))
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
    validate_name(name)
    reserved, plain = _split_tags(tags or {}, mapping.MODEL_CREATE_TAGS, "model")
    if not actor.has_perm("models_registry.add_registeredmodel"):
        raise errors.denied("Only data scientists register models.")
    if RegisteredModel.objects.filter(name=name).exists():
        raise errors.MlflowError(
            errors.RESOURCE_ALREADY_EXISTS,
            f"Registered Model (name={name}) already exists.",
        )
    team = _team_for(actor, reserved.get(mapping.TEAM_TAG))
    values: dict[str, Any] = dict(mapping.MODEL_DEFAULTS)
    for tag, field_name in mapping.MODEL_FIELD_TAGS.items():
        if tag in reserved:
            values[field_name] = reserved[tag]
    if mapping.LATENCY_TAG in reserved:
        latency = reserved[mapping.LATENCY_TAG]
        if not latency.isdigit():
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
                **values,
            )
            _store_tags(actor, model, plain)
    except RegistryConflict as error:
        raise errors.MlflowError(
            errors.RESOURCE_ALREADY_EXISTS,
            f"Registered Model (name={name}) already exists.",
        ) from error
    except ServiceError as error:
        raise errors.from_service_error(error) from error
    return model


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


def registered_model_describe(
    *, actor, model: RegisteredModel, description: str
) -> RegisteredModel:
    try:
        return registry.model_update(actor=actor, model=model, description=description)
    except ServiceError as error:
        raise errors.from_service_error(error) from error


def registered_model_tag_set(
    *, actor, model: RegisteredModel, key: str, value: str
) -> None:
    _validate_tag(key, value)
    _refuse_reserved(key, "model")
    _require(actor, model, access.CHANGE, "set tags")
    with transaction.atomic():
        model = _lock_model(model)
        _store_tags(actor, model, {key: value})


def registered_model_tag_delete(*, actor, model: RegisteredModel, key: str) -> None:
    """Delete a tag; deleting one that is not there changes nothing (as MLflow)."""
    _validate_tag(key, "")
    _refuse_reserved(key, "model")
    _require(actor, model, access.CHANGE, "delete tags")
    with transaction.atomic():
        model = _lock_model(model)
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


# --- Aliases --------------------------------------------------------------------------


def request_url(request: DeploymentRequest) -> str:
    base = getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/approvals/requests/{request.pk}/"


def _version_of(model: RegisteredModel, number: int) -> ModelVersion:
    version = (
        ModelVersion.objects.select_related("model", "artifact")
        .filter(model=model, version=number)
        .first()
    )
    if version is None:
        raise errors.does_not_exist(
            f"Model Version (name={model.name}, version={number}) not found"
        )
    return version


def alias_set(
    *, actor, model: RegisteredModel, alias: str, number: int, client: str = ""
) -> DeploymentRequest | None:
    """Point an alias at a version.

    A governed alias is not set: a deployment request (full traffic) for the
    version and the alias's environment is opened, or the pending one found,
    and returned; None means the alias now names the version (a governed one
    because that version is already live there)."""
    validate_alias(alias)
    _validate_alias_reserved(alias)
    _require(actor, model, access.VIEW, "see aliases")
    version = _version_of(model, number)
    governed = (
        GovernedAlias.objects.select_related("environment").filter(alias=alias).first()
    )
    if governed is not None:
        return _request_deployment(actor, version, governed, client)
    _require(actor, model, access.CHANGE, "set aliases")
    with transaction.atomic():
        model = _lock_model(model)
        current = ModelAlias.objects.filter(model=model, alias=alias).first()
        if current is not None and current.version_id == version.pk:
            return None
        ModelAlias.objects.update_or_create(
            model=model,
            alias=alias,
            defaults={
                "version": version,
                "updated_by": actor,
                "updated_at": timezone.now(),
            },
        )
        audit_record(
            actor=actor,
            action="mlflow.alias_set",
            target=version,
            scope=model.name,
            payload={
                "alias": alias,
                "version": version.version,
                "previous": current.version.version if current else None,
            },
        )
    return None


def _pending(version: ModelVersion, environment: Environment):
    return (
        DeploymentRequest.objects.filter(
            version=version, environment=environment, status=RequestStatus.PENDING
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def _request_deployment(
    actor, version: ModelVersion, governed: GovernedAlias, client: str
) -> DeploymentRequest | None:
    environment = governed.environment
    is_live = Deployment.objects.filter(
        model_id=version.model_id,
        environment=environment,
        version=version,
        status=DeploymentStatus.ACTIVE,
        strategy=Strategy.FULL,
    ).exists()
    if is_live:
        return None
    pending = _pending(version, environment)
    if pending is not None:
        return pending
    justification = (
        f"Requested by setting the governed MLflow alias '{governed.alias}' to "
        f"version {version.version} from an MLflow client"
        + (f" ({client[:120]})" if client else "")
        + "."
    )
    try:
        return approvals.deployment_request_submit(
            actor=actor,
            version=version,
            environment=environment,
            strategy=Strategy.FULL,
            justification=justification,
        )
    except ServiceError as error:
        # A concurrent call may have opened the same request a moment ago.
        pending = _pending(version, environment)
        if pending is not None:
            return pending
        raise errors.from_service_error(error) from error


def alias_delete(*, actor, model: RegisteredModel, alias: str) -> None:
    """Delete a free alias (deleting a missing one changes nothing, as MLflow);
    a governed alias is refused: it follows deployments."""
    validate_alias(alias)
    _require(actor, model, access.VIEW, "see aliases")
    governed = (
        GovernedAlias.objects.select_related("environment").filter(alias=alias).first()
    )
    if governed is not None:
        base = getattr(settings, "PORTAL_BASE_URL", "http://127.0.0.1:8000")
        raise errors.denied(
            f"'{alias}' is a governed alias: it names the version live in "
            f"{governed.environment} and moves only with deployments. To take that "
            f"version out, roll the deployment back in Gatehouse: "
            f"{base.rstrip('/')}/models/{model.name}/"
        )
    _require(actor, model, access.CHANGE, "delete aliases")
    with transaction.atomic():
        model = _lock_model(model)
        current = (
            ModelAlias.objects.select_related("version")
            .filter(model=model, alias=alias)
            .first()
        )
        if current is None:
            return
        current.delete()
        audit_record(
            actor=actor,
            action="mlflow.alias_deleted",
            target=current.version,
            scope=model.name,
            payload={"alias": alias, "version": current.version.version},
        )


# --- Model versions -------------------------------------------------------------------


def _artifact(
    source: str, reserved: dict[str, str], extra_roots: tuple[str, ...]
) -> tuple[dict[str, Any], str]:
    """The artifact record of a source, and the environment lock found beside
    it ("" if none)."""
    tagged_sha = reserved.get(mapping.SHA256_TAG)
    tagged_size = reserved.get(mapping.SIZE_TAG)
    if tagged_sha is not None and validation.sha256_errors(tagged_sha):
        raise errors.invalid(
            f"Tag {mapping.SHA256_TAG} must be a SHA-256 digest: 64 lowercase "
            "hexadecimal characters."
        )
    if tagged_size is not None and not tagged_size.isdigit():
        raise errors.invalid(f"Tag {mapping.SIZE_TAG} is a whole number of bytes.")
    digest = None
    is_local = sources.local_path(source) is not None
    readable = is_local and bool(settings.MLFLOW_FILE_SOURCE_ROOTS or extra_roots)
    if tagged_sha is None or readable:
        if not is_local:
            raise errors.invalid(
                f"Gatehouse pins every version to the sha256 of its artifact and "
                f"cannot read '{source}'. Set the tags {mapping.SHA256_TAG} (64 "
                f"lowercase hex) and {mapping.SIZE_TAG} on the version, or register "
                "a file:// source the portal may read."
            )
        try:
            digest = sources.digest_source(source, extra_roots=extra_roots)
        except errors.MlflowError as error:
            if tagged_sha is not None:
                digest = None
            else:
                raise errors.invalid(
                    f"{error.message} Set the tags {mapping.SHA256_TAG} and "
                    f"{mapping.SIZE_TAG} on the version instead."
                ) from error
    if digest is not None and tagged_sha is not None and digest.sha256 != tagged_sha:
        raise errors.invalid(
            f"Tag {mapping.SHA256_TAG} says {tagged_sha} but the source's sha256 is "
            f"{digest.sha256}."
        )
    if digest is None and tagged_size is None:
        raise errors.invalid(
            f"Set the tag {mapping.SIZE_TAG} with {mapping.SHA256_TAG}: Gatehouse "
            "records the artifact's size."
        )
    feature_spec: Any = []
    if mapping.FEATURE_SPEC_TAG in reserved:
        try:
            feature_spec = json.loads(reserved[mapping.FEATURE_SPEC_TAG])
        except ValueError as error:
            raise errors.invalid(
                f"Tag {mapping.FEATURE_SPEC_TAG} must be JSON: a list of "
                '{"name", "type"} features.'
            ) from error
    artifact = {
        "uri": source,
        "sha256": digest.sha256 if digest else tagged_sha,
        "size_bytes": digest.size_bytes if digest else int(tagged_size),
        "format": reserved.get(mapping.FORMAT_TAG, mapping.DEFAULT_FORMAT),
        "preprocessing_code_version": reserved.get(mapping.PREPROCESSING_TAG, ""),
        "feature_spec": feature_spec,
    }
    return artifact, digest.environment_lock_hash if digest else ""


def _seed(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError as error:
        message = f"Tag {mapping.SEED_TAG} must be a whole number."
        raise errors.invalid(message) from error


def lineage(
    *,
    reserved: dict[str, str],
    environment_lock_hash: str,
    run_tags: dict[str, str] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The code and environment of a run, from the version's gatehouse. tags or
    (for imports) the MLflow run's own tags; and the tags still missing."""
    run_tags = run_tags or {}
    found = {
        "code_repository": reserved.get(mapping.CODE_REPOSITORY_TAG)
        or run_tags.get("mlflow.source.git.repoURL")
        or run_tags.get(mapping.CODE_REPOSITORY_TAG, ""),
        "code_commit": reserved.get(mapping.CODE_COMMIT_TAG)
        or run_tags.get("mlflow.source.git.commit")
        or run_tags.get(mapping.CODE_COMMIT_TAG, ""),
        "environment_lock_hash": reserved.get(mapping.ENVIRONMENT_TAG)
        or run_tags.get(mapping.ENVIRONMENT_TAG)
        or environment_lock_hash,
        "entrypoint": reserved.get(mapping.ENTRYPOINT_TAG)
        or run_tags.get("mlflow.source.name", ""),
    }
    seed = reserved.get(mapping.SEED_TAG) or run_tags.get(mapping.SEED_TAG)
    found["random_seed"] = _seed(seed)
    missing = [
        tag
        for tag, field_name in (
            (mapping.CODE_REPOSITORY_TAG, "code_repository"),
            (mapping.CODE_COMMIT_TAG, "code_commit"),
            (mapping.ENVIRONMENT_TAG, "environment_lock_hash"),
        )
        if not found[field_name]
    ]
    return found, missing


def model_version_create(
    *,
    actor,
    model: RegisteredModel,
    source: str,
    run_id: str = "",
    run_link: str = "",
    description: str = "",
    tags: dict[str, str] | None = None,
    logged_model_id: str = "",
) -> tuple[ModelVersion, bool]:
    """Register a version from an MLflow client.

    The source becomes the artifact (sha256 from the ``gatehouse.sha256`` tag or
    read from a ``file://`` source); a run id links the training run recorded
    under that id, or records one from the ``gatehouse.`` lineage tags, and is
    refused when neither is possible (a version without its run could never pass
    the lineage gate). Re-sending the same artifact returns its version."""
    _require(actor, model, access.REGISTER, "register versions")
    reserved, plain, artifact, environment_lock = _version_inputs(source, tags, ())
    run_spec = None
    training_run = None
    if run_id:
        training_run = TrainingRun.objects.filter(
            model=model, external_run_id=run_id
        ).first()
        if training_run is None:
            found, missing = lineage(
                reserved=reserved, environment_lock_hash=environment_lock
            )
            if missing:
                raise errors.invalid(
                    f"Run {run_id} is not recorded in Gatehouse for {model.name}, and "
                    f"the version's tags lack {', '.join(missing)} to record it. Set "
                    "them (the environment lock can also come from a requirements.txt "
                    "beside a file:// source), or record the run first with POST "
                    f"/api/v1/models/{model.name}/runs/."
                )
            run_spec = {"external_run_id": run_id, **found}
    elif any(tag in reserved for tag in mapping.LINEAGE_TAGS):
        raise errors.invalid(
            "Lineage tags describe a training run: give the version's run_id too."
        )
    return _register(
        actor=actor,
        model=model,
        artifact=artifact,
        reserved=reserved,
        plain=plain,
        description=description,
        run_spec=run_spec,
        training_run=training_run,
        link={"run_link": run_link, "logged_model_id": logged_model_id},
    )


def _version_inputs(source, tags, extra_roots):
    if not isinstance(source, str) or not source:
        raise errors.invalid("Missing value for required parameter 'source'.")
    if problems := validation.uri_errors(source):
        raise errors.invalid(f"Invalid source '{source}': {problems[0]}")
    reserved, plain = _split_tags(tags or {}, mapping.VERSION_CREATE_TAGS, "version")
    artifact, environment_lock = _artifact(source, reserved, extra_roots)
    return reserved, plain, artifact, environment_lock


def _register(
    *,
    actor,
    model,
    artifact,
    reserved,
    plain,
    description,
    run_spec,
    training_run,
    link: dict[str, Any],
) -> tuple[ModelVersion, bool]:
    try:
        with transaction.atomic():
            version, created = registry.model_version_register_with_run(
                actor=actor,
                model=model,
                artifact=artifact,
                run=run_spec,
                training_run=training_run,
                description=description or "",
                tags=plain,
                semantic_version=reserved.get(mapping.SEMANTIC_VERSION_TAG, ""),
            )
            kept = {key: value for key, value in link.items() if value}
            if created and kept:
                VersionLink.objects.create(version=version, **kept)
                audit_record(
                    actor=actor,
                    action="mlflow.version_linked",
                    target=version,
                    scope=model.name,
                    payload={
                        key: value for key, value in kept.items() if key != "run_facts"
                    },
                )
    except ServiceError as error:
        raise errors.from_service_error(error) from error
    return version, created


def model_version_import(
    *,
    actor,
    model: RegisteredModel,
    source: str,
    run: dict[str, Any] | None,
    description: str,
    tags: dict[str, str],
    imported_from: str,
    imported_version: str,
    extra_roots: tuple[str, ...] = (),
) -> tuple[ModelVersion, bool, list[str]]:
    """Register a version read from another MLflow registry.

    ``run`` holds the MLflow run: ``run_id``, ``tags``, ``params``, ``metrics``,
    ``dataset_inputs``, ``start_time``/``end_time`` (ms). When its code and
    environment are known a training run is recorded, with the params as its
    parameters and the metrics and dataset inputs under ``mlflow.metrics`` and
    ``mlflow.dataset_inputs``; otherwise the version is registered without one
    and the run's facts are kept on the version's MLflow link. Returns the
    version, whether it was created, and the lineage tags that were missing."""
    _require(actor, model, access.REGISTER, "register versions")
    reserved, plain, artifact, environment_lock = _version_inputs(
        source, tags, extra_roots
    )
    run_spec, training_run, missing = None, None, []
    link: dict[str, Any] = {
        "imported_from": imported_from,
        "imported_version": imported_version,
    }
    if run is not None:
        parameters = {
            **run["params"],
            "mlflow.metrics": run["metrics"],
            "mlflow.dataset_inputs": run["dataset_inputs"],
        }
        training_run = TrainingRun.objects.filter(
            model=model, external_run_id=run["run_id"]
        ).first()
        found, missing = lineage(
            reserved=reserved,
            environment_lock_hash=environment_lock,
            run_tags=run["tags"],
        )
        if training_run is None and not missing:
            seed = found["random_seed"]
            if seed is None:
                seed = _seed_from_params(run["params"])
            run_spec = {
                "external_run_id": run["run_id"],
                **found,
                "random_seed": seed,
                "parameters": parameters,
                "started_at": _from_millis(run.get("start_time")),
                "ended_at": _from_millis(run.get("end_time")),
            }
        elif training_run is None:
            link.update(run_id=run["run_id"], run_facts=parameters)
    version, created = _register(
        actor=actor,
        model=model,
        artifact=artifact,
        reserved=reserved,
        plain=plain,
        description=description,
        run_spec=run_spec,
        training_run=training_run,
        link=link,
    )
    return version, created, missing


_SEED_PARAMS = ("random_seed", "seed", "random_state")


def _seed_from_params(params: dict[str, str]) -> int | None:
    for name in _SEED_PARAMS:
        value = params.get(name, "")
        if value.lstrip("-").isdigit():
            return int(value)
    return None


def _from_millis(value) -> datetime | None:
    if value in (None, "", 0, "0"):
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def model_version_describe(
    *, actor, version: ModelVersion, description: str
) -> ModelVersion:
    try:
        return registry.model_version_update(
            actor=actor, version=version, description=description
        )
    except ServiceError as error:
        raise errors.from_service_error(error) from error


def _change_version_tags(actor, version: ModelVersion, change) -> None:
    _require(actor, version.model, access.CHANGE, "change version tags")
    try:
        with transaction.atomic():
            locked = (
                ModelVersion.objects.select_for_update(of=("self",))
                .select_related("model")
                .get(pk=version.pk)
            )
            tags = change(dict(locked.tags))
            if tags != locked.tags:
                registry.model_version_update(actor=actor, version=locked, tags=tags)
    except ServiceError as error:
        raise errors.from_service_error(error) from error


def model_version_tag_set(
    *, actor, version: ModelVersion, key: str, value: str
) -> None:
    _validate_tag(key, value)
    _refuse_reserved(key, "version")
    _change_version_tags(actor, version, lambda tags: {**tags, key: value})


def model_version_tag_delete(*, actor, version: ModelVersion, key: str) -> None:
    _validate_tag(key, "")
    _refuse_reserved(key, "version")
    _change_version_tags(
        actor,
        version,
        lambda tags: {name: value for name, value in tags.items() if name != key},
    )


# --- Governed aliases (the Django admin) ---------------------------------------------


def validate_governed_alias(alias: str) -> None:
    validate_alias(alias)
    _validate_alias_reserved(alias)


def governed_alias_save(
    *, actor, governed: GovernedAlias, alias: str, environment: Environment
) -> GovernedAlias:
    """Create or change a governed alias (platform admins, in the admin)."""
    if not (
        actor.is_superuser
        or actor.has_perm(
            "mlflow_bridge.change_governedalias"
            if governed.pk
            else "mlflow_bridge.add_governedalias"
        )
    ):
        raise errors.denied("Only platform admins configure governed aliases.")
    validate_governed_alias(alias)
    with transaction.atomic():
        before = (
            {"alias": governed.alias, "environment": governed.environment.name}
            if governed.pk
            else {}
        )
        governed.alias = alias
        governed.environment = environment
        governed.save()
        after = {"alias": alias, "environment": environment.name}
        if before != after:
            audit_record(
                actor=actor,
                action="mlflow.governed_alias_saved",
                target=governed,
                payload={"before": before, "after": after},
            )
    return governed


def governed_alias_delete(*, actor, governed: GovernedAlias) -> None:
    if not (actor.is_superuser or actor.has_perm("mlflow_bridge.delete_governedalias")):
        raise errors.denied("Only platform admins configure governed aliases.")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="mlflow.governed_alias_deleted",
            target=governed,
            payload={"alias": governed.alias, "environment": governed.environment.name},
        )
        governed.delete()
