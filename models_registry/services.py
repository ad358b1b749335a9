"""Writes of the registry. Each function is one transaction with its audit event.

Lock order, when a service locks several rows: the registered model first, then
its versions (by pk), then the audit chain (taken by ``audit_record``).
"""

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from guardian.shortcuts import assign_perm

from audit.services import audit_record
from kernel.models import Team
from kernel.roles import (
    PLATFORM_ADMIN,
    REVIEWER,
    RISK_OFFICER,
    VALIDATOR,
    user_has_role,
)
from models_registry import access, validation
from models_registry.errors import (
    CardFrozen,
    CardRevisionConflict,
    ModelNotFound,
    RegistryConflict,
    RegistryInvalid,
    RegistryPermissionDenied,
)
from models_registry.models import (
    CARD_FIELDS,
    Artifact,
    ArtifactFormat,
    DatasetSnapshot,
    DecisionDomain,
    Evaluation,
    FairnessSlice,
    InputRole,
    ModelCard,
    ModelCardRevision,
    ModelVersion,
    RegisteredModel,
    RegulatoryTier,
    ReproductionCheck,
    RiskClass,
    ServingMode,
    Split,
    TeamReviewer,
    TrainingRun,
    TrainingRunInput,
    VersionStatus,
)

TEAM_PERMISSIONS = (access.VIEW, access.CHANGE, access.REGISTER, access.ROLLBACK)
REVIEWER_PERMISSIONS = (access.VIEW, access.REVIEW)


class _Errors:
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


def _check_choice(errors: _Errors, field: str, value: Any, choices) -> None:
    if value not in choices.values:
        errors.add(field, f"Must be one of: {', '.join(choices.values)}.")


def _is_team_member(actor, team: Team) -> bool:
    return actor.groups.filter(pk=team.group_id).exists()


def _require(actor, model: RegisteredModel, codename: str) -> None:
    """Raise 404 for a model the actor may not see, 403 for a missing right."""
    if not access.has_model_permission(actor, model, access.VIEW):
        raise ModelNotFound("No such model.")
    if not access.has_model_permission(actor, model, codename):
        raise RegistryPermissionDenied(
            f"You may not do this with model “{model.name}”."
        )


def _lock_model(model: RegisteredModel) -> RegisteredModel:
    return RegisteredModel.objects.select_for_update().get(pk=model.pk)


# --- Registered models -------------------------------------------------------------


def _model_field_errors(errors: _Errors, values: dict[str, Any]) -> None:
    for field, choices in (
        ("domain", DecisionDomain),
        ("risk_class", RiskClass),
        ("regulatory_tier", RegulatoryTier),
        ("serving_mode", ServingMode),
    ):
        if field in values:
            _check_choice(errors, field, values[field], choices)
    if "offline_success_metrics" in values:
        errors.add(
            "offline_success_metrics",
            validation.success_metric_errors(
                values["offline_success_metrics"], name_key="metric"
            ),
        )
    if "online_success_metrics" in values:
        errors.add(
            "online_success_metrics",
            validation.success_metric_errors(
                values["online_success_metrics"], name_key="kpi"
            ),
        )
    if values.get("latency_slo_percentile", 99) not in (50, 90, 95, 99):
        errors.add("latency_slo_percentile", "Must be 50, 90, 95 or 99.")
    slo = values.get("latency_slo_ms")
    if slo is not None and (
        not isinstance(slo, int) or isinstance(slo, bool) or slo <= 0
    ):
        errors.add("latency_slo_ms", "Must be a positive number of milliseconds.")
    threshold = values.get("low_confidence_threshold")
    if threshold is not None and not (
        validation.is_finite_number(threshold) and 0 <= threshold <= 1
    ):
        errors.add("low_confidence_threshold", "Must be between 0 and 1.")
    disparity = values.get("fairness_max_disparity", 0.1)
    if not (validation.is_finite_number(disparity) and 0 <= disparity <= 1):
        errors.add("fairness_max_disparity", "Must be between 0 and 1.")
    attributes = values.get("fairness_attributes", [])
    if not isinstance(attributes, list) or not all(
        isinstance(item, str) and item for item in attributes
    ):
        errors.add("fairness_attributes", "Must be a list of attribute names.")
    if "reproducibility_tolerance" in values:
        errors.add(
            "reproducibility_tolerance",
            _tolerance_errors(values["reproducibility_tolerance"]),
        )
    for field in ("title", "description"):
        if field in values:
            errors.add(field, validation.secret_errors(values[field]))


def _tolerance_errors(tolerance: Any) -> list[str]:
    if tolerance in ({}, None):
        return []
    if not isinstance(tolerance, dict) or tolerance.get("mode") not in (
        "exact_hash",
        "metrics",
    ):
        return [
            "Must be {“mode”: “exact_hash”} or {“mode”: “metrics”, “tolerances”: {…}}."
        ]
    if tolerance["mode"] == "metrics":
        tolerances = tolerance.get("tolerances")
        if not isinstance(tolerances, dict) or not tolerances:
            return [
                "Metric mode needs “tolerances”: {metric: largest allowed difference}."
            ]
        problems = validation.metrics_errors(tolerances)
        if any(validation.is_finite_number(v) and v < 0 for v in tolerances.values()):
            problems.append("Tolerances cannot be negative.")
        return problems
    return []


def model_create(
    *,
    actor,
    name: str,
    title: str,
    team: Team,
    domain: str,
    risk_class: str,
    regulatory_tier: str,
    serving_mode: str,
    description: str = "",
    offline_success_metrics: list | None = None,
    online_success_metrics: list | None = None,
    latency_slo_ms: int | None = None,
    latency_slo_percentile: int = 99,
    reproducibility_tolerance: dict | None = None,
    low_confidence_threshold: float | None = None,
    fairness_attributes: list | None = None,
    fairness_max_disparity: float = 0.1,
) -> RegisteredModel:
    """Register a model owned by one of the actor's teams."""
    if not actor.has_perm("models_registry.add_registeredmodel"):
        raise RegistryPermissionDenied("Only data scientists register models.")
    if not (_is_team_member(actor, team) or user_has_role(actor, PLATFORM_ADMIN)):
        raise RegistryInvalid(
            "The model was not registered.",
            fields={"team": ["You can only register models for your own teams."]},
        )
    values = {
        "name": name,
        "title": title,
        "description": description,
        "domain": domain,
        "risk_class": risk_class,
        "regulatory_tier": regulatory_tier,
        "serving_mode": serving_mode,
        "offline_success_metrics": offline_success_metrics or [],
        "online_success_metrics": online_success_metrics or [],
        "latency_slo_ms": latency_slo_ms,
        "latency_slo_percentile": latency_slo_percentile,
        "reproducibility_tolerance": reproducibility_tolerance
        or {"mode": "exact_hash"},
        "low_confidence_threshold": low_confidence_threshold,
        "fairness_attributes": fairness_attributes or [],
        "fairness_max_disparity": fairness_max_disparity,
    }
    errors = _Errors()
    _model_field_errors(errors, values)
    if serving_mode == ServingMode.REAL_TIME and latency_slo_ms is None:
        errors.add("latency_slo_ms", "Real-time models need a latency SLO.")
    if RegisteredModel.objects.filter(name=name).exists():
        errors.add("name", "A model with this name exists already.")
    errors.raise_if_any("The model was not registered.")
    try:
        with transaction.atomic():
            model = RegisteredModel.objects.create(
                team=team, created_by=actor, **values
            )
            for codename in TEAM_PERMISSIONS:
                assign_perm(codename, team.group, model)
            reviewers = [
                assignment.user
                for assignment in TeamReviewer.objects.filter(team=team).select_related(
                    "user"
                )
            ]
            if reviewers:
                for codename in REVIEWER_PERMISSIONS:
                    assign_perm(codename, reviewers, model)  # one bulk insert each
            audit_record(
                actor=actor,
                action="model.registered",
                target=model,
                scope=model.name,
                payload={"team": team.slug, **values},
            )
    except IntegrityError as error:  # a concurrent registration took the name
        raise RegistryConflict(
            "The model was not registered.",
            fields={"name": ["A model with this name exists already."]},
        ) from error
    return model


_EDITABLE_MODEL_FIELDS = (
    "title",
    "description",
    "domain",
    "regulatory_tier",
    "serving_mode",
    "offline_success_metrics",
    "online_success_metrics",
    "latency_slo_ms",
    "latency_slo_percentile",
    "reproducibility_tolerance",
    "low_confidence_threshold",
    "fairness_attributes",
    "fairness_max_disparity",
)


def model_update(*, actor, model: RegisteredModel, **changes) -> RegisteredModel:
    """Change a model's descriptive fields. Name and team never change; the risk
    class changes only through ``model_risk_class_change``."""
    # Permission first: someone who may not see the model learns nothing from
    # field errors.
    _require(actor, model, access.CHANGE)
    unknown = set(changes) - set(_EDITABLE_MODEL_FIELDS)
    errors = _Errors()
    for field in sorted(unknown):
        reason = {
            "name": "The name of a model never changes.",
            "team": "Ask a platform admin to move a model to another team.",
            "risk_class": "Risk officers change the risk class, with a reason.",
        }.get(field, "Unknown field.")
        errors.add(field, reason)
    errors.raise_if_any("The model was not changed.")
    _model_field_errors(errors, changes)
    errors.raise_if_any("The model was not changed.")
    with transaction.atomic():
        model = _lock_model(model)
        diff = {
            field: [getattr(model, field), value]
            for field, value in changes.items()
            if getattr(model, field) != value
        }
        serving_mode = changes.get("serving_mode", model.serving_mode)
        slo = changes.get("latency_slo_ms", model.latency_slo_ms)
        if serving_mode == ServingMode.REAL_TIME and slo is None:
            raise RegistryInvalid(
                "The model was not changed.",
                fields={"latency_slo_ms": ["Real-time models need a latency SLO."]},
            )
        if not diff:
            return model
        for field, (_, value) in diff.items():
            setattr(model, field, value)
        model.save(update_fields=[*diff, "updated_at"])
        audit_record(
            actor=actor,
            action="model.updated",
            target=model,
            scope=model.name,
            payload={"diff": diff},
        )
    return model


def model_risk_class_change(
    *, actor, model: RegisteredModel, risk_class: str, reason: str
) -> RegisteredModel:
    if not access.has_model_permission(actor, model, access.VIEW):
        raise ModelNotFound("No such model.")
    if not (
        user_has_role(actor, RISK_OFFICER)
        and actor.has_perm("models_registry.change_risk_class")
    ):
        raise RegistryPermissionDenied(
            "Only risk officers change a model's risk class."
        )
    errors = _Errors()
    _check_choice(errors, "risk_class", risk_class, RiskClass)
    if not reason or not reason.strip():
        errors.add("reason", "Say why the risk class changes.")
    errors.add("reason", validation.secret_errors(reason or ""))
    errors.raise_if_any("The risk class was not changed.")
    with transaction.atomic():
        model = _lock_model(model)
        if model.risk_class == risk_class:
            raise RegistryInvalid(
                "The risk class was not changed.",
                fields={"risk_class": [f"The model is already {risk_class} risk."]},
            )
        previous = model.risk_class
        model.risk_class = risk_class
        model.save(update_fields=["risk_class", "updated_at"])
        audit_record(
            actor=actor,
            action="model.risk_class_changed",
            target=model,
            scope=model.name,
            payload={"diff": {"risk_class": [previous, risk_class]}, "reason": reason},
        )
    return model


def model_reviewer_assign(
    *, actor, user, model: RegisteredModel | None = None, team: Team | None = None
) -> None:
    """Let a reviewer, risk officer or validator see and review one model, or
    every present and future model of a team. Assigning twice changes nothing."""
    if not (actor.is_superuser or user_has_role(actor, PLATFORM_ADMIN)):
        raise RegistryPermissionDenied("Only platform admins assign reviewers.")
    if (model is None) == (team is None):
        raise RegistryInvalid(
            "Assign to a model or to a team.", fields={"model": ["Give one."]}
        )
    if not user_has_role(user, REVIEWER, RISK_OFFICER, VALIDATOR):
        raise RegistryInvalid(
            "Nobody was assigned.",
            fields={"user": ["Only reviewers, risk officers and validators review."]},
        )
    with transaction.atomic():
        if team is not None:
            _, created = TeamReviewer.objects.get_or_create(team=team, user=user)
            if not created:
                return
            targets = list(RegisteredModel.objects.filter(team=team))
        else:
            if access.has_model_permission(user, model, access.REVIEW):
                return
            targets = [model]
        if targets:
            for codename in REVIEWER_PERMISSIONS:
                assign_perm(codename, user, targets)  # one bulk insert each
        audit_record(
            actor=actor,
            action="model.reviewer_assigned",
            target=model or team,
            scope=model.name if model else "",
            payload={
                "user": user.get_username(),
                "model": model.name if model else None,
                "team": team.slug if team else None,
            },
        )
    access.forget_model_permissions(user)


# --- Dataset snapshots -------------------------------------------------------------


def dataset_snapshot_create(
    *,
    actor,
    team: Team,
    name: str,
    uri: str,
    sha256: str,
    row_count: int,
    schema: list,
    time_column: str = "",
    time_range_start: datetime | None = None,
    time_range_end: datetime | None = None,
    pii_columns: list | None = None,
    parents: list[DatasetSnapshot] | None = None,
) -> tuple[DatasetSnapshot, bool]:
    """Record an immutable snapshot; re-sending the same sha256 returns the first."""
    if not (
        actor.has_perm("models_registry.add_datasetsnapshot")
        and (_is_team_member(actor, team) or user_has_role(actor, PLATFORM_ADMIN))
    ):
        raise RegistryPermissionDenied(
            "Only data scientists of the team record its datasets."
        )
    pii_columns = pii_columns or []
    parents = parents or []
    errors = _Errors()
    if not name or not name.strip():
        errors.add("name", "Required.")
    errors.add("name", validation.secret_errors(name))
    errors.add("uri", validation.uri_errors(uri))
    errors.add("sha256", validation.sha256_errors(sha256))
    if not isinstance(row_count, int) or isinstance(row_count, bool) or row_count < 0:
        errors.add("row_count", "Must be a whole number, zero or more.")
    errors.add("schema", validation.schema_errors(schema))
    if not errors.fields.get("schema"):
        errors.add("pii_columns", validation.pii_errors(pii_columns, schema))
        names = {column["name"] for column in schema}
        if time_column and time_column not in names:
            errors.add("time_column", f"“{time_column}” is not a column of the schema.")
    if time_range_start and time_range_end and time_range_start > time_range_end:
        errors.add("time_range_end", "Must not be before the start.")
    from models_registry.selectors import dataset_list

    visible = set(
        dataset_list(actor=actor)
        .filter(pk__in=[parent.pk for parent in parents])
        .values_list("pk", flat=True)
    )
    if any(parent.pk not in visible for parent in parents):
        errors.add("parents", "Parents must be snapshots you can see.")
    errors.raise_if_any("The dataset snapshot was not recorded.")
    with transaction.atomic():
        existing = DatasetSnapshot.objects.filter(team=team, sha256=sha256).first()
        if existing is not None:
            if (existing.uri, existing.row_count) != (uri, row_count):
                raise RegistryConflict(
                    "The dataset snapshot was not recorded.",
                    fields={
                        "sha256": [
                            f"Snapshot “{existing.name}” has this sha256 with a "
                            "different URI or row count."
                        ]
                    },
                )
            return existing, False
        snapshot = DatasetSnapshot.objects.create(
            team=team,
            name=name.strip(),
            uri=uri,
            sha256=sha256,
            row_count=row_count,
            schema=schema,
            time_column=time_column,
            time_range_start=time_range_start,
            time_range_end=time_range_end,
            pii_columns=pii_columns,
            created_by=actor,
        )
        if parents:
            snapshot.parents.add(*parents)
        audit_record(
            actor=actor,
            action="dataset.recorded",
            target=snapshot,
            payload={
                "team": team.slug,
                "name": snapshot.name,
                "uri": uri,
                "sha256": sha256,
                "row_count": row_count,
                "pii_columns": pii_columns,
                "parents": [parent.pk for parent in parents],
            },
        )
    return snapshot, True


# --- Training runs -----------------------------------------------------------------


def training_run_create(
    *,
    actor,
    model: RegisteredModel,
    external_run_id: str,
    code_repository: str,
    code_commit: str,
    environment_lock_hash: str,
    entrypoint: str = "",
    parameters: dict | None = None,
    random_seed: int | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    inputs: list[tuple[DatasetSnapshot, str]] | None = None,
) -> tuple[TrainingRun, bool]:
    """Record a training run with its input snapshots; idempotent by run id."""
    _require(actor, model, access.REGISTER)
    parameters = parameters or {}
    inputs = inputs or []
    errors = _Errors()
    if not external_run_id or len(external_run_id) > 200:
        errors.add("external_run_id", "Required, at most 200 characters.")
    if not code_repository:
        errors.add("code_repository", "Required.")
    errors.add("code_repository", validation.secret_errors(code_repository))
    if not validation.COMMIT.match(code_commit or ""):
        errors.add(
            "code_commit", "Must be a git commit id: 7 to 64 hexadecimal characters."
        )
    errors.add("environment_lock_hash", validation.sha256_errors(environment_lock_hash))
    if not isinstance(parameters, dict):
        errors.add("parameters", "Must be an object.")
    errors.add("parameters", validation.secret_errors(parameters))
    errors.add("entrypoint", validation.secret_errors(entrypoint))
    if started_at and ended_at and ended_at < started_at:
        errors.add("ended_at", "Must not be before the start.")
    for snapshot, role in inputs:
        if role not in InputRole.values:
            errors.add("inputs", f"Role must be one of {', '.join(InputRole.values)}.")
        if snapshot.team_id != model.team_id:
            errors.add("inputs", f"Snapshot {snapshot.pk} belongs to another team.")
    errors.raise_if_any("The training run was not recorded.")
    with transaction.atomic():
        # The model row lock serialises run creation per model, so two requests
        # with the same run id cannot both pass the check below.
        _lock_model(model)
        existing = TrainingRun.objects.filter(
            model=model, external_run_id=external_run_id
        ).first()
        if existing is not None:
            if (existing.code_commit, existing.environment_lock_hash) != (
                code_commit,
                environment_lock_hash,
            ):
                raise RegistryConflict(
                    "The training run was not recorded.",
                    fields={
                        "external_run_id": [
                            "A run with this id exists with another commit or "
                            "environment."
                        ]
                    },
                )
            return existing, False
        run = TrainingRun.objects.create(
            model=model,
            external_run_id=external_run_id,
            code_repository=code_repository,
            code_commit=code_commit,
            entrypoint=entrypoint,
            parameters=parameters,
            environment_lock_hash=environment_lock_hash,
            random_seed=random_seed,
            started_at=started_at,
            ended_at=ended_at,
            created_by=actor,
        )
        TrainingRunInput.objects.bulk_create(
            [
                TrainingRunInput(run=run, snapshot=snapshot, role=role)
                for snapshot, role in dict.fromkeys(inputs)
            ]
        )
        audit_record(
            actor=actor,
            action="run.recorded",
            target=run,
            scope=model.name,
            payload={
                "external_run_id": external_run_id,
                "code_repository": code_repository,
                "code_commit": code_commit,
                "environment_lock_hash": environment_lock_hash,
                "random_seed": random_seed,
                "parameters": parameters,
                "inputs": [[snapshot.pk, role] for snapshot, role in inputs],
            },
        )
    return run, True


# --- Versions ----------------------------------------------------------------------


def _artifact_errors(errors: _Errors, artifact: dict[str, Any]) -> None:
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
    _require(actor, model, access.REGISTER)
    tags = tags or {}
    card = card or {}
    errors = _Errors()
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
    with transaction.atomic():
        model = _lock_model(model)
        existing = (
            ModelVersion.objects.select_related("artifact")
            .filter(model=model, artifact__sha256=artifact["sha256"])
            .first()
        )
        if existing is not None:
            return existing, False
        model.last_version_number += 1
        model.save(update_fields=["last_version_number"])
        stored_artifact = Artifact.objects.create(
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
        version = ModelVersion.objects.create(
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
        model_card = ModelCard.objects.create(
            version=version, revision=1, updated_at=now, updated_by=actor, **card
        )
        ModelCardRevision.objects.create(
            card=model_card,
            revision=1,
            content=model_card.content(),
            edited_by=actor,
            edited_at=now,
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
    _require(actor, version.model, access.CHANGE)
    errors = _Errors()
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


def model_card_update(
    *, actor, version: ModelVersion, expected_revision: int | None = None, **fields: str
) -> ModelCard:
    """Edit the card's text; each edit is a revision. Frozen once the version is
    approved for production. With ``expected_revision``, refuse to overwrite a
    revision saved by someone else since (checked under the row lock)."""
    _require(actor, version.model, access.CHANGE)
    errors = _Errors()
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


def evaluation_record(
    *,
    actor,
    version: ModelVersion,
    split: str,
    dataset: DatasetSnapshot,
    metrics: dict[str, float],
    slices: list[dict[str, Any]] | None = None,
) -> Evaluation:
    """Record an evaluation with its fairness slices (attribute, group, size,
    metrics). Disparities are computed when read, never typed in."""
    _require(actor, version.model, access.REGISTER)
    slices = slices or []
    errors = _Errors()
    _check_choice(errors, "split", split, Split)
    errors.add("metrics", validation.metrics_errors(metrics))
    if isinstance(metrics, dict) and not metrics:
        errors.add("metrics", "Give at least one metric.")
    if dataset.team_id != version.model.team_id:
        errors.add("dataset", "The snapshot belongs to another team.")
    seen = set()
    for index, entry in enumerate(slices):
        where = f"slices[{index}]"
        if not isinstance(entry, dict):
            errors.add(where, "Must be an object.")
            continue
        attribute, group = entry.get("attribute"), entry.get("group")
        if not isinstance(attribute, str) or not attribute:
            errors.add(where, "Needs an “attribute”.")
        if not isinstance(group, str) or not group:
            errors.add(where, "Needs a “group”.")
        errors.add(where, validation.secret_errors([attribute, group]))
        if (attribute, group) in seen:
            errors.add(where, f"{attribute}={group} appears twice.")
        seen.add((attribute, group))
        size = entry.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            errors.add(where, "“size” must be a whole number.")
        errors.add(where, validation.metrics_errors(entry.get("metrics", {})))
    errors.raise_if_any("The evaluation was not recorded.")
    with transaction.atomic():
        evaluation = Evaluation.objects.create(
            version=version,
            split=split,
            dataset=dataset,
            metrics=metrics,
            created_by=actor,
        )
        FairnessSlice.objects.bulk_create(
            [
                FairnessSlice(
                    evaluation=evaluation,
                    attribute=entry["attribute"],
                    group=entry["group"],
                    size=entry["size"],
                    metrics=entry.get("metrics", {}),
                )
                for entry in slices
            ]
        )
        audit_record(
            actor=actor,
            action="evaluation.recorded",
            target=version,
            scope=version.model.name,
            payload={
                "evaluation": evaluation.pk,
                "split": split,
                "dataset": dataset.pk,
                "metrics": metrics,
                "slices": len(slices),
            },
        )
    return evaluation


def reproduction_check_record(
    *,
    actor,
    version: ModelVersion,
    artifact_sha256: str,
    metrics: dict[str, float] | None = None,
    external_run_id: str = "",
) -> ReproductionCheck:
    """Compare a re-run with the original under the model's tolerance."""
    _require(actor, version.model, access.REGISTER)
    metrics = metrics or {}
    errors = _Errors()
    errors.add("artifact_sha256", validation.sha256_errors(artifact_sha256))
    errors.add("metrics", validation.metrics_errors(metrics))
    errors.raise_if_any("The reproduction check was not recorded.")
    tolerance = version.model.reproducibility_tolerance or {"mode": "exact_hash"}
    mode = tolerance.get("mode", "exact_hash")
    original_sha = version.artifact.sha256
    differences: dict[str, Any] = {}
    if mode == "exact_hash":
        is_passed = artifact_sha256 == original_sha
        if not is_passed:
            differences["artifact_sha256"] = {
                "original": original_sha,
                "rerun": artifact_sha256,
            }
    else:
        original = _test_metrics(version)
        is_passed = True
        metric_differences = {}
        for name, allowed in tolerance["tolerances"].items():
            if name not in original or name not in metrics:
                is_passed = False
                metric_differences[name] = {
                    "original": original.get(name),
                    "rerun": metrics.get(name),
                    "problem": "missing on one side",
                }
                continue
            difference = abs(metrics[name] - original[name])
            within = difference <= allowed
            is_passed = is_passed and within
            metric_differences[name] = {
                "original": original[name],
                "rerun": metrics[name],
                "difference": difference,
                "tolerance": allowed,
                "within": within,
            }
        differences["metrics"] = metric_differences
    with transaction.atomic():
        check = ReproductionCheck.objects.create(
            version=version,
            external_run_id=external_run_id,
            artifact_sha256=artifact_sha256,
            metrics=metrics,
            is_passed=is_passed,
            differences=differences,
            mode=mode,
            checked_by=actor,
        )
        audit_record(
            actor=actor,
            action="reproduction.checked",
            target=version,
            scope=version.model.name,
            payload={"passed": is_passed, "mode": mode, "differences": differences},
        )
    return check


def _test_metrics(version: ModelVersion) -> dict[str, float]:
    latest = (
        Evaluation.objects.filter(version=version, split=Split.TEST)
        .order_by("-created_at", "-pk")
        .first()
    )
    return dict(latest.metrics) if latest else {}


# --- One-call registration -----------------------------------------------------------


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
    """
    if run is not None and training_run is not None:
        raise RegistryInvalid(
            "The version was not registered.",
            fields={"run": ["Give either a run or an existing run, not both."]},
        )
    _require(actor, model, access.REGISTER)
    sha256 = artifact.get("sha256") if isinstance(artifact, dict) else None
    with transaction.atomic():
        # The model row first (the documented lock order): a concurrent re-send
        # waits here and then finds the version instead of recording the run.
        model = _lock_model(model)
        is_registered = bool(sha256) and (
            ModelVersion.objects.filter(model=model, artifact__sha256=sha256).exists()
        )
        if run is not None and not is_registered:
            try:
                training_run, _ = training_run_create(actor=actor, model=model, **run)
            except (RegistryInvalid, RegistryConflict) as error:
                raise type(error)(
                    "The version was not registered: " + error.message,
                    fields={f"run.{key}": value for key, value in error.fields.items()},
                ) from error
        return model_version_register(
            actor=actor,
            model=model,
            artifact=artifact,
            training_run=training_run,
            description=description,
            tags=tags,
            semantic_version=semantic_version,
            card=card,
        )


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
