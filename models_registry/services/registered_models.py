"""Registered models: registration, descriptive changes, the risk class and
reviewer assignments."""

from functools import cache
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from guardian.shortcuts import assign_perm

from audit.services import audit_record
from kernel import db
from kernel.models import Team
from kernel.roles import (
    PLATFORM_ADMIN,
    REVIEWER,
    RISK_OFFICER,
    VALIDATOR,
    is_team_member,
    user_has_role,
)
from models_registry import access, validation
from models_registry.errors import (
    ModelNotFound,
    RegistryConflict,
    RegistryInvalid,
    RegistryPermissionDenied,
)
from models_registry.models import (
    DecisionDomain,
    EntryKind,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
    RegulatoryTier,
    RiskClass,
    ServingMode,
    TeamReviewer,
)
from models_registry.services.preconditions import (
    FieldErrors,
    check_choice,
    holds_globally,
    is_model_name_taken,
    lock_model,
    require_model_permission,
)

NAME_TAKEN = "A model with this name exists already."
TEAM_PERMISSIONS = (access.VIEW, access.CHANGE, access.REGISTER, access.ROLLBACK)
REVIEWER_PERMISSIONS = (access.VIEW, access.REVIEW)


def _model_field_errors(errors: FieldErrors, values: dict[str, Any]) -> None:
    for field, choices in (
        ("domain", DecisionDomain),
        ("risk_class", RiskClass),
        ("regulatory_tier", RegulatoryTier),
        ("serving_mode", ServingMode),
    ):
        if field in values:
            check_choice(errors, field, values[field], choices)
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
    kind: str = EntryKind.MODEL,
) -> RegisteredModel:
    """Register a model (or, with ``kind="prompt"``, a prompt) owned by one of
    the actor's teams."""
    if not holds_globally(actor, "models_registry.add_registeredmodel"):
        raise RegistryPermissionDenied("Only data scientists register models.")
    if not (is_team_member(actor, team) or user_has_role(actor, PLATFORM_ADMIN)):
        raise RegistryInvalid(
            "The model was not registered.",
            fields={"team": ["You can only register models for your own teams."]},
        )
    values = {
        "name": name,
        "kind": kind,
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
    errors = FieldErrors()
    check_choice(errors, "kind", kind, EntryKind)
    _model_field_errors(errors, values)
    if serving_mode == ServingMode.REAL_TIME and latency_slo_ms is None:
        errors.add("latency_slo_ms", "Real-time models need a latency SLO.")
    # Where the insert checks the name itself (_insert_with_grants), a taken
    # name is looked up beforehand only to report it with other field errors.
    if (errors.fields or not _inserts_in_one_statement()) and is_model_name_taken(name):
        errors.add("name", NAME_TAKEN)
    errors.raise_if_any("The model was not registered.")
    try:
        # No savepoint inside a caller's transaction: an error here ends the
        # whole registration (the caller's block rolls back too).
        with transaction.atomic(savepoint=False):
            model = _insert_with_grants(
                RegisteredModel(team=team, created_by=actor, **values), team
            )
            if model is not None:
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
            fields={"name": [NAME_TAKEN]},
        ) from error
    if model is None:  # the insert found the name taken and wrote nothing
        errors.add("name", NAME_TAKEN)
        errors.raise_if_any("The model was not registered.")
    return model


@cache
def _grant_sql(model_id: str = "%s", joined: str = "") -> tuple[str, str]:
    """Object permissions of a new model, as two CTE members: the owning
    team's group gets TEAM_PERMISSIONS, each of the team's assigned reviewers
    REVIEWER_PERMISSIONS (the rows guardian's ``assign_perm`` would write,
    without its queries per permission). ``model_id`` is the model's id in the
    SQL (a parameter, or a column of the ``joined`` insert's rows). Parameters:
    the model's app label and content type name, the group (, the model), the
    team."""
    permissions = (
        f"SELECT gh_p.id, gh_p.codename FROM {Permission._meta.db_table} gh_p "  # noqa: S608
        f"JOIN {ContentType._meta.db_table} gh_ct ON gh_ct.id = gh_p.content_type_id "
        "WHERE gh_ct.app_label = %s AND gh_ct.model = %s"
    )

    def codenames(names) -> str:
        return ", ".join(f"'{name}'" for name in names)

    group = (
        f"INSERT INTO {RegisteredModelGroupObjectPermission._meta.db_table} "  # noqa: S608
        "(permission_id, group_id, content_object_id) "
        f"SELECT p.id, %s, {model_id} FROM p{joined} WHERE p.codename IN "
        f"({codenames(TEAM_PERMISSIONS)})"
    )
    users = (
        f"INSERT INTO {RegisteredModelUserObjectPermission._meta.db_table} "  # noqa: S608
        "(permission_id, user_id, content_object_id) "
        f"SELECT p.id, r.user_id, {model_id} FROM p JOIN "
        f"{TeamReviewer._meta.db_table} r "
        f"ON r.team_id = %s{joined} "
        f"WHERE p.codename IN ({codenames(REVIEWER_PERMISSIONS)})"
    )
    return f"p AS ({permissions}), g AS ({group} RETURNING 1)", users


@cache
def _create_sql() -> str:
    """The new model's row and its object permissions in one statement (one
    round trip), unless the name is taken (then nothing is written and no
    row returned): parameters of ``db.insert_sql`` then of ``_grant_sql``."""
    members, users = _grant_sql("m.id", " CROSS JOIN m")
    insert = db.insert_sql(RegisteredModel).replace(
        " RETURNING ", " ON CONFLICT (name) DO NOTHING RETURNING "
    )
    return (
        f"WITH m AS ({insert}), {members}, "  # noqa: S608
        f"u AS ({users} RETURNING 1) SELECT id FROM m"
    )


def _inserts_in_one_statement() -> bool:
    return connection.vendor == "postgresql" and not db.saves_through_orm(
        RegisteredModel
    )


def _insert_with_grants(model: RegisteredModel, team: Team) -> RegisteredModel | None:
    """Insert ``model`` and grant its team (and reviewers) their object
    permissions; None, writing nothing, if the insert finds its name taken
    (in the one-statement insert; the other ways check the name first)."""
    label = (model._meta.app_label, model._meta.model_name)
    if _inserts_in_one_statement():
        params = [*db.insert_params(model), *label, team.group_id, team.pk]
        found = db.rows(_create_sql(), params)
        return db.inserted(model, found[0][0]) if found else None
    db.insert(model)
    if connection.vendor == "postgresql":
        members, users = _grant_sql()
        sql = f"WITH {members} {users}"
        db.execute(sql, [*label, team.group_id, model.pk, model.pk, team.pk])
        return model
    # SQLite (the demo) has no INSERT inside WITH: guardian, row by row.
    for codename in TEAM_PERMISSIONS:
        assign_perm(codename, team.group, model)
    reviewers = [
        assignment.user
        for assignment in TeamReviewer.objects.filter(team=team).select_related("user")
    ]
    for codename in REVIEWER_PERMISSIONS if reviewers else ():
        assign_perm(codename, reviewers, model)
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
    require_model_permission(actor, model, access.CHANGE)
    unknown = set(changes) - set(_EDITABLE_MODEL_FIELDS)
    errors = FieldErrors()
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
        model = lock_model(model)
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
    errors = FieldErrors()
    check_choice(errors, "risk_class", risk_class, RiskClass)
    if not reason or not reason.strip():
        errors.add("reason", "Say why the risk class changes.")
    errors.add("reason", validation.secret_errors(reason or ""))
    errors.raise_if_any("The risk class was not changed.")
    with transaction.atomic():
        model = lock_model(model)
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
