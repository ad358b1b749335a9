"""Fixed SQL texts for the reads MLflow clients repeat most (a model or a
version by name, a page of them by id, the latest versions), run through
``kernel.db`` and prepared once per connection; and the builders that turn
their rows into model instances."""

import json
from functools import cache

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from approvals.models import Deployment, DeploymentStatus, Strategy
from kernel import db
from kernel.models import Team
from mlflow_bridge.models import VersionLink
from mlflow_bridge.selectors.context import context_column
from models_registry import access
from models_registry.models import (
    Artifact,
    EntryKind,
    ModelVersion,
    PromptContent,
    RegisteredModel,
    TrainingRun,
    VersionStatus,
)
from models_registry.page_selectors import ARTIFACT_FIELDS

_MODEL_FIELDS = (
    "id",
    "name",
    "description",
    "created_at",
    "updated_at",
    "last_version_number",
    "risk_class",
    "domain",
    "regulatory_tier",
    "serving_mode",
    "team_id",
    "created_by_id",
    "title",
    "latency_slo_ms",
    "kind",
)
_VERSION_FIELDS = (
    "id",
    "model_id",
    "version",
    "description",
    "tags",
    "status",
    "created_at",
    "updated_at",
    "artifact_id",
    "training_run_id",
    "registered_by_id",
    "semantic_version",
)

# A prompt version's content (NULLs for a model's version).
_PROMPT_FIELDS = (
    "id",
    "template_type",
    "template",
    "messages",
    "response_format",
    "model_config",
    "content_hash",
)


_LIVE = (
    "EXISTS (SELECT 1 FROM {deployment} d WHERE d.version_id = {alias}.id "
    "AND d.status = %s AND d.strategy = %s)"
)
# The highest version of v's model that is not live, in (=) or out of (<>) the
# archive.
_HIGHEST_NOT_LIVE = (
    "(SELECT o.version FROM {version} o WHERE o.model_id = v.model_id "
    "AND o.status {comparison} %s AND NOT {live_o} ORDER BY o.version DESC LIMIT 1)"
)
# PostgreSQL: the ids of the latest versions of a list of models, looked up
# once per model (two index scans each, through LATERAL) rather than tested
# on every version row; and the live ones from the deployments.
_PICK = (
    "(SELECT o.id FROM {version} o WHERE o.model_id = k.model_id "
    "AND o.status {comparison} %s AND NOT {live_o} ORDER BY o.version DESC LIMIT 1)"
)
_LATEST_IDS = (
    "SELECT p.id FROM {models} AS k(model_id) CROSS JOIN LATERAL ("  # noqa: S608
    + _PICK.replace("{comparison}", "<>")
    + " UNION ALL "
    + _PICK.replace("{comparison}", "=")
    + ") p UNION ALL SELECT d.version_id FROM {deployment} d "
    "WHERE d.model_id {model_ids} AND d.status = %s AND d.strategy = %s"
)
# A page's models as one array parameter; one model (every model answer and
# get-latest-versions) as one value. Not only shorter: PostgreSQL plans an
# array's length as 10 in a generic plan, so for one model the custom plan
# always looked cheaper and a prepared statement was planned again on every
# execution (about 4 ms of planning for 0.2 ms of work, on each get model).
_MANY_MODELS = {"models": "unnest(%s::bigint[])", "model_ids": "= ANY(%s)"}
_ONE_MODEL = {"models": "(VALUES (%s::bigint))", "model_ids": "= %s"}
_MODELS = (
    "SELECT {model_columns}, t.slug, cu.username FROM {model} m "
    "JOIN {team} t ON t.id = m.team_id JOIN {user} cu ON cu.id = m.created_by_id"
)
_VERSIONS = (
    "SELECT {version_columns}, m.name, m.last_version_number, a.uri, a.sha256, "
    "a.size_bytes, a.format, a.preprocessing_code_version, a.feature_spec, "
    "r.external_run_id, ru.username, l.id, l.run_id, l.run_link, m.kind, "
    "m.team_id, {prompt_columns} "
    "FROM {version} v JOIN {model} m ON m.id = v.model_id "
    "JOIN {artifact} a ON a.id = v.artifact_id "
    "LEFT JOIN {run} r ON r.id = v.training_run_id "
    "JOIN {user} ru ON ru.id = v.registered_by_id "
    "LEFT JOIN {link} l ON l.version_id = v.id "
    "LEFT JOIN {prompt} pc ON pc.version_id = v.id"
)


@cache
def queries() -> dict[str, str]:
    """The SELECTs of models and versions with what answers show of their
    related rows (aliases: m model, v version), and the conditions of
    "latest versions"."""
    names = {
        "model": RegisteredModel._meta.db_table,
        "version": ModelVersion._meta.db_table,
        "team": Team._meta.db_table,
        "user": get_user_model()._meta.db_table,
        "artifact": Artifact._meta.db_table,
        "run": TrainingRun._meta.db_table,
        "link": VersionLink._meta.db_table,
        "prompt": PromptContent._meta.db_table,
        "prompt_columns": ", ".join(f"pc.{name}" for name in _PROMPT_FIELDS),
        "deployment": Deployment._meta.db_table,
        "model_columns": ", ".join(f"m.{name}" for name in _MODEL_FIELDS),
        "version_columns": ", ".join(f"v.{name}" for name in _VERSION_FIELDS),
    }
    names["live_o"] = _LIVE.format(alias="o", **names)
    return {
        "models": _MODELS.format(**names),
        "versions": _VERSIONS.format(**names),
        "live": _LIVE.format(alias="v", **names),
        "highest_other": _HIGHEST_NOT_LIVE.format(comparison="<>", **names),
        "highest_archived": _HIGHEST_NOT_LIVE.format(comparison="=", **names),
        "latest_ids": _LATEST_IDS.format(**_MANY_MODELS, **names),
        "latest_ids_one": _LATEST_IDS.format(**_ONE_MODEL, **names),
    }


def _by_id(ids: list[int], select: str, column: str, build) -> list:
    """The rows with these ids, built into records, in this order (one query)."""
    if not ids:
        return []
    condition, params = db.in_list(column, ids)
    rows = db.rows(f"{select} WHERE {condition}", params)
    found = {record.pk: record for record in map(build, rows)}
    return [found[pk] for pk in ids]


def _model_row(row) -> RegisteredModel:
    count = len(_MODEL_FIELDS)
    model = db.instance(RegisteredModel, _MODEL_FIELDS, row[:count])
    model.team = db.instance(Team, ("id", "slug"), (model.team_id, row[count]))
    model.created_by = db.instance(
        get_user_model(), ("id", "username"), (model.created_by_id, row[count + 1])
    )
    return model


def _version_row(row) -> ModelVersion:
    count = len(_VERSION_FIELDS)
    version = db.instance(ModelVersion, _VERSION_FIELDS, row[:count])
    (name, last_number, uri, sha256, size, format_, preprocessing, spec) = row[
        count : count + 8
    ]
    run_id, username, link_id, link_run_id, run_link, kind, team_id = row[
        count + 8 : count + 15
    ]
    version.model = db.instance(
        RegisteredModel,
        ("id", "name", "last_version_number", "kind", "team_id"),
        (version.model_id, name, last_number, kind, team_id),
    )
    prompt = row[count + 15 :]
    if prompt[0] is None:
        ModelVersion.prompt.related.set_cached_value(version, None)
    else:
        version.prompt = db.instance(PromptContent, _PROMPT_FIELDS, prompt)
    version.artifact = db.instance(
        Artifact,
        ARTIFACT_FIELDS,
        (version.artifact_id, uri, sha256, size, format_, preprocessing, spec),
    )
    version.training_run = (
        db.instance(
            TrainingRun, ("id", "external_run_id"), (version.training_run_id, run_id)
        )
        if version.training_run_id is not None
        else None
    )
    version.registered_by = db.instance(
        get_user_model(), ("id", "username"), (version.registered_by_id, username)
    )
    if link_id is None:
        ModelVersion.mlflow_link.related.set_cached_value(version, None)
    else:
        version.mlflow_link = db.instance(
            VersionLink,
            ("id", "version_id", "run_id", "run_link"),
            (link_id, version.pk, link_run_id, run_link),
        )
    return version


def _model_record(row) -> db.Record:
    """What a page's answer reads of a model row, without model instances."""
    count = len(_MODEL_FIELDS)
    model = db.record(RegisteredModel, _MODEL_FIELDS, row[:count])
    model.team = db.Record(id=model.team_id, slug=row[count])
    model.created_by = db.Record(id=model.created_by_id, username=row[count + 1])
    return model


def _version_record(row) -> db.Record:
    """What a page's answer reads of a version row, without model instances."""
    count = len(_VERSION_FIELDS)
    version = db.record(ModelVersion, _VERSION_FIELDS, row[:count])
    (name, last_number, uri, sha256, size, format_, preprocessing, spec) = row[
        count : count + 8
    ]
    run_id, username, link_id, link_run_id, run_link, kind, team_id = row[
        count + 8 : count + 15
    ]
    version.model = db.Record(
        id=version.model_id,
        name=name,
        last_version_number=last_number,
        kind=kind,
        team_id=team_id,
    )
    prompt = row[count + 15 :]
    version.prompt = (
        None if prompt[0] is None else db.record(PromptContent, _PROMPT_FIELDS, prompt)
    )
    version.artifact = db.record(
        Artifact,
        ARTIFACT_FIELDS,
        (version.artifact_id, uri, sha256, size, format_, preprocessing, spec),
    )
    version.training_run = (
        db.Record(id=version.training_run_id, external_run_id=run_id)
        if version.training_run_id is not None
        else None
    )
    version.registered_by = db.Record(id=version.registered_by_id, username=username)
    version.mlflow_link = (
        None
        if link_id is None
        else db.Record(
            id=link_id, version_id=version.id, run_id=link_run_id, run_link=run_link
        )
    )
    return version


def _live_params() -> list:
    return [DeploymentStatus.ACTIVE, Strategy.FULL]


# --- The reads ---------------------------------------------------------------------


def model_named(actor, name: str) -> RegisteredModel | None:
    """The model of this name if the actor may see it (one query)."""
    visible, params = access.visible_sql(actor, "m.id")
    found = db.rows(
        f"{queries()['models']} WHERE m.name = %s AND {visible}", [name, *params]
    )
    return _model_row(found[0]) if found else None


def version_numbered(actor, name: str, number: int) -> ModelVersion | None:
    """Version ``number`` of the model ``name`` if the actor may see it (one
    query)."""
    visible, params = access.visible_sql(actor, "m.id")
    found = db.rows(
        f"{queries()['versions']} WHERE m.name = %s AND v.version = %s AND {visible}",
        [name, number, *params],
    )
    return _version_row(found[0]) if found else None


def _answer(select: str, where: str, params: list, build, versions: bool):
    """What an answer shows of one row (a record) and, on PostgreSQL, its
    page-context rows from the same query (else None): see context_column."""
    if connection.vendor != "postgresql":
        found = db.rows(f"{select} WHERE {where}", params)
        return (build(found[0]) if found else None), None
    column, column_params = context_column(
        "m.id", "v.id" if versions else None, with_tags=not versions
    )
    head, tail = select.split(" FROM ", 1)
    found = db.rows(
        f"{head}, {column} FROM {tail} WHERE {where}", [*column_params, *params]
    )
    if not found:
        return None, None
    rows = found[0][-1]
    return build(found[0][:-1]), json.loads(rows) if isinstance(rows, str) else rows


def model_answer(actor, name: str) -> tuple[db.Record | None, list | None]:
    """A record of the model of this name if the actor may see it, and its
    page-context rows with tags (one query; see ``_answer``)."""
    visible, params = access.visible_sql(actor, "m.id")
    where = f"m.name = %s AND {visible}"
    return _answer(queries()["models"], where, [name, *params], _model_record, False)


def version_answer(
    actor, name: str, number: int
) -> tuple[db.Record | None, list | None]:
    """A record of version ``number`` of the model ``name`` if the actor may
    see it, and its page-context rows (one query; see ``_answer``)."""
    visible, params = access.visible_sql(actor, "m.id")
    where = f"m.name = %s AND v.version = %s AND {visible}"
    select = queries()["versions"]
    return _answer(select, where, [name, number, *params], _version_record, True)


def _page(ordered: QuerySet, offset: int, limit: int, select: str, column: str, build):
    """Records of one page of ``ordered`` (a search's filtered, ordered
    query) and whether another page follows. On PostgreSQL one query: the
    page's ids, as the ORM compiles them, inside the fixed SELECT, whose
    text then depends only on the search's filters and paging, so it is
    prepared and planned once per connection like the other reads; elsewhere
    the ids, then their rows."""
    ids = ordered.values_list("pk", flat=True)[offset : offset + limit + 1]
    if connection.vendor != "postgresql":
        ids = list(ids)
        return _by_id(ids[:limit], select, column, build), len(ids) > limit
    try:
        page, params = ids.query.sql_with_params()
    except EmptyResultSet:  # a filter that matches nothing, found while compiling
        return [], False
    rows = db.rows(
        f"{select} JOIN unnest(ARRAY({page})) WITH ORDINALITY AS page(id, position) "
        f"ON page.id = {column} ORDER BY page.position",
        params,
    )
    return [build(row) for row in rows[:limit]], len(rows) > limit


def model_versions_page(actor, name: str, offset: int, limit: int) -> tuple[list, bool]:
    """Records of a page of the versions of the model ``name`` (not a
    prompt) that the actor may see, in the default order of a version search
    (last updated first, then newest), and whether another page follows (one
    query)."""
    visible, params = access.visible_sql(actor, "m.id")
    rows = db.rows(
        f"{queries()['versions']} WHERE m.name = %s AND m.kind <> %s AND {visible} "
        "ORDER BY v.updated_at DESC, m.name, v.version DESC LIMIT %s OFFSET %s",
        [name, EntryKind.PROMPT, *params, limit + 1, offset],
    )
    return [_version_record(row) for row in rows[:limit]], len(rows) > limit


def models_page(ordered: QuerySet, offset: int, limit: int) -> tuple[list, bool]:
    """Records of a page of models and whether another follows (one query)."""
    return _page(ordered, offset, limit, queries()["models"], "m.id", _model_record)


def versions_page(ordered: QuerySet, offset: int, limit: int) -> tuple[list, bool]:
    """Records of a page of versions and whether another follows (one
    query)."""
    select = queries()["versions"]
    return _page(ordered, offset, limit, select, "v.id", _version_record)


def latest_versions(model_ids: list[int]) -> list[db.Record]:
    """Per model, its live versions and the highest archived and highest other
    version that is not live, as records for answers (one query)."""
    sql = queries()
    if not model_ids:
        return []
    if connection.vendor == "postgresql":
        one = len(model_ids) == 1
        ids = model_ids[0] if one else list(model_ids)
        latest = sql["latest_ids_one" if one else "latest_ids"]
        found = db.rows(
            f"{sql['versions']} WHERE v.id IN ({latest})",
            [
                ids,
                VersionStatus.ARCHIVED,
                *_live_params(),
                VersionStatus.ARCHIVED,
                *_live_params(),
                ids,
                *_live_params(),
            ],
        )
        return [_version_record(row) for row in found]
    models, params = db.in_list("v.model_id", model_ids)
    found = db.rows(
        f"{sql['versions']} WHERE {models} AND ({sql['live']} "
        f"OR v.version = {sql['highest_other']} "
        f"OR v.version = {sql['highest_archived']})",
        [
            *params,
            *_live_params(),
            VersionStatus.ARCHIVED,
            *_live_params(),
            VersionStatus.ARCHIVED,
            *_live_params(),
        ],
    )
    return [_version_record(row) for row in found]
