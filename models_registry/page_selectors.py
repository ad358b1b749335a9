"""Pages of the API's lists of models and versions as fixed SQL texts, with
their total, in one query.

The lists the API serves most (``/api/v1/models/``, a model's versions, the
versions across models) used to read a page through the ORM: a COUNT query
and the page query, both compiled and planned on every request, then a model
instance per row and per related row. Here one query returns the page's
rows, with what the answers show of their related rows, and the number of
rows the filters match; its text depends only on which filters are given, so
it is prepared once per connection (``kernel.db``), and the rows become plain
records (``kernel.db.record``: the ORM's converters, no instances).

One model or version for its API answer (``model_one``, ``version_one``) is
read the same way: the list's columns and records, not whole rows built into
instances.

The filters, their order and the permission rule are the ORM selectors'
(``selectors.model_list``, ``selectors.version_list``), which the pages and
exports keep using; tests hold both to the same answers.
"""

import json
from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection

from kernel import db
from kernel.models import Team
from models_registry import access
from models_registry.errors import ModelNotFound, VersionNotFound
from models_registry.models import (
    Artifact,
    ModelVersion,
    RegisteredModel,
    TrainingRun,
)

_MODEL_FIELDS = (
    "id",
    "name",
    "kind",
    "title",
    "description",
    "team_id",
    "domain",
    "risk_class",
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
    "last_version_number",
    "created_at",
    "updated_at",
)
_VERSION_FIELDS = (
    "id",
    "model_id",
    "version",
    "semantic_version",
    "status",
    "description",
    "tags",
    "production_approved_at",
    "created_at",
    "updated_at",
    "artifact_id",
    "training_run_id",
    "registered_by_id",
)
# What the answers show of a version's artifact (the MLflow bridge's fixed
# SQL reads the same columns).
ARTIFACT_FIELDS = (
    "id",
    "uri",
    "sha256",
    "size_bytes",
    "format",
    "preprocessing_code_version",
    "feature_spec",
)


@dataclass(frozen=True)
class Page:
    """One page of a list and how many rows the whole list has."""

    count: int
    items: list[db.Record]


# The page and its total in one statement: ``found`` (the rows the filters
# and the permission rule let through, materialised once as it is read
# twice) is counted, and its page joined to the columns answers show. An
# empty page still returns the count (one row of NULLs besides it), and
# ``seen``: whether the model a page belongs to may be seen (TRUE for lists
# that belong to no model), so a model's page needs no query of its own.
_PAGE = (
    "WITH found AS ({found}) "
    "SELECT c.total, {seen}, {columns} FROM (SELECT COUNT(*) AS total FROM found) c "
    "LEFT JOIN (SELECT {keys} FROM found f ORDER BY {order} LIMIT %s OFFSET %s) p "
    "ON 1 = 1 {joins} ORDER BY {outer_order}"
)


@cache
def _tables() -> dict[str, str]:
    return {
        "model": RegisteredModel._meta.db_table,
        "version": ModelVersion._meta.db_table,
        "team": Team._meta.db_table,
        "artifact": Artifact._meta.db_table,
        "run": TrainingRun._meta.db_table,
        "user": get_user_model()._meta.db_table,
    }


def _contains(column: str, term: str) -> tuple[str, list]:
    """``column`` contains ``term``, ignoring case: Django's ``icontains``
    (its SQL and its escaping of ``%``, ``_`` and ``\\``)."""
    lhs = connection.ops.lookup_cast("icontains", "CharField") % column
    pattern = f"%{connection.ops.prep_for_like_query(term)}%"
    return f"{lhs} {connection.operators['icontains'] % '%s'}", [pattern]


def _page(found: str, params: list, shape: dict, offset: int, limit: int, seen=None):
    """The total and the page's rows; ``seen`` (SQL and its parameters): the
    model the page belongs to may be seen, else ModelNotFound."""
    seen_sql, seen_params = seen or ("TRUE", [])
    sql = _PAGE.format(found=found, seen=seen_sql, **shape)
    rows = db.rows(sql, [*params, *seen_params, limit, offset])
    if not rows[0][1]:
        raise ModelNotFound("No such model.")
    return rows[0][0], [row[2:] for row in rows if row[2] is not None]


# --- Models --------------------------------------------------------------------------


def model_page(*, actor, filters: dict, offset: int, limit: int) -> Page:
    """A page of ``selectors.model_list(actor=actor, filters=filters)`` (by
    name) as records with ``team.slug``, and its total (one query)."""
    tables = _tables()
    visible, params = access.visible_sql(actor, "m.id")
    conditions = [visible]
    kind = filters.get("kind") or "model"
    if kind != "all":
        conditions.append("m.kind = %s")
        params.append(kind)
    for field in ("risk_class", "domain", "serving_mode"):
        if filters.get(field):
            conditions.append(f"m.{field} = %s")
            params.append(filters[field])
    if filters.get("team"):
        conditions.append(
            f"m.team_id IN (SELECT ft.id FROM {tables['team']} ft "  # noqa: S608
            "WHERE ft.slug = %s)"
        )
        params.append(filters["team"])
    if filters.get("status"):
        conditions.append(
            f"EXISTS (SELECT 1 FROM {tables['version']} fv "  # noqa: S608
            "WHERE fv.model_id = m.id AND fv.status = %s)"
        )
        params.append(filters["status"])
    if filters.get("search"):
        term = filters["search"].strip()
        in_name, name_params = _contains("m.name", term)
        in_title, title_params = _contains("m.title", term)
        conditions.append(f"({in_name} OR {in_title})")
        params += [*name_params, *title_params]
    found = (
        f"SELECT m.id, m.name FROM {tables['model']} m "  # noqa: S608
        f"WHERE {' AND '.join(conditions)}"
    )
    count, rows = _page(found, params, _model_shape(), offset, limit)
    return Page(count, [_model_record(row) for row in rows])


@cache
def _model_shape() -> dict[str, str]:
    tables = _tables()
    return {
        "columns": ", ".join(f"m.{name}" for name in _MODEL_FIELDS) + ", t.slug",
        "keys": "f.id, f.name",
        "order": "f.name",
        "joins": f"LEFT JOIN {tables['model']} m ON m.id = p.id "
        f"LEFT JOIN {tables['team']} t ON t.id = m.team_id",
        "outer_order": "p.name",
    }


@cache
def _one_model_sql() -> str:
    tables = _tables()
    return (
        f"SELECT {_model_shape()['columns']} FROM {tables['model']} m "  # noqa: S608
        f"JOIN {tables['team']} t ON t.id = m.team_id WHERE m.name = %s AND "
    )


def model_one(*, actor, name: str) -> db.Record:
    """The model of this name as the list's records (what its answer shows),
    if the actor may see it, else ModelNotFound (one query)."""
    found = _one(actor, _one_model_sql(), "m.id", name, _model_record)
    if found is None:
        raise ModelNotFound("No such model.")
    return found


def _one(actor, select: str, model_column: str, key, build) -> db.Record | None:
    """The record of ``select``'s row with this ``key`` if the actor may see
    the model whose id is ``model_column`` (one query)."""
    visible, params = access.visible_sql(actor, model_column)
    rows = db.rows(select + visible, [key, *params])
    return build(rows[0]) if rows else None


def _model_record(row) -> db.Record:
    count = len(_MODEL_FIELDS)
    model = db.record(RegisteredModel, _MODEL_FIELDS, row[:count])
    model.team = db.Record(id=model.team_id, slug=row[count])
    return model


# --- Versions ------------------------------------------------------------------------


def version_page(
    *,
    actor,
    filters: dict,
    offset: int,
    limit: int,
    model_name: str | None = None,
) -> Page:
    """A page of ``selectors.version_list(actor=actor, model=model,
    filters=filters)`` (by model name, newest version first) as records with
    ``model.name``, ``artifact``, ``training_run`` and ``registered_by``, and
    its total (one query, the permission rule inside). With ``model_name``,
    that model's versions, or ModelNotFound if the actor may not see it (in
    the same query)."""
    tables = _tables()
    visible, params = access.visible_sql(actor, "v.model_id")
    conditions = [visible]
    seen = None
    if model_name is not None:
        conditions.append("m.name = %s")
        params.append(model_name)
        model_visible, seen_params = access.visible_sql(actor, "sm.id")
        seen = (
            f"EXISTS (SELECT 1 FROM {tables['model']} sm "  # noqa: S608
            f"WHERE sm.name = %s AND {model_visible})",
            [model_name, *seen_params],
        )
    if filters.get("status"):
        conditions.append("v.status = %s")
        params.append(filters["status"])
    if filters.get("model"):
        conditions.append("m.name = %s")
        params.append(filters["model"])
    if filters.get("tag"):
        key, _, value = filters["tag"].partition("=")
        if connection.vendor == "postgresql":
            conditions.append("v.tags @> %s::jsonb")
            params.append(json.dumps({key: value}))
        else:
            conditions.append(
                "EXISTS (SELECT 1 FROM json_each(v.tags) ft "
                "WHERE ft.key = %s AND ft.type = 'text' AND ft.value = %s)"
            )
            params += [key, value]
    found = (
        f"SELECT v.id, v.version, m.name FROM {tables['version']} v "  # noqa: S608
        f"JOIN {tables['model']} m ON m.id = v.model_id "
        f"WHERE {' AND '.join(conditions)}"
    )
    count, rows = _page(found, params, _version_shape(), offset, limit, seen)
    return Page(count, [_version_record(row) for row in rows])


@cache
def _version_shape() -> dict[str, str]:
    tables = _tables()
    columns = [f"v.{name}" for name in _VERSION_FIELDS]
    columns += ["p.name"] + [f"a.{name}" for name in ARTIFACT_FIELDS[1:]]
    columns += ["r.external_run_id", "u.username"]
    return {
        "columns": ", ".join(columns),
        "keys": "f.id, f.version, f.name",
        "order": "f.name, f.version DESC",
        "joins": f"LEFT JOIN {tables['version']} v ON v.id = p.id "
        f"LEFT JOIN {tables['artifact']} a ON a.id = v.artifact_id "
        f"LEFT JOIN {tables['run']} r ON r.id = v.training_run_id "
        f"LEFT JOIN {tables['user']} u ON u.id = v.registered_by_id",
        "outer_order": "p.name, p.version DESC",
    }


@cache
def _one_version_sql() -> str:
    # The page's columns, the model (``p`` in a page) joined directly.
    tables = _tables()
    return (
        f"SELECT {_version_shape()['columns']} FROM {tables['version']} v "  # noqa: S608
        f"JOIN {tables['model']} p ON p.id = v.model_id "
        f"JOIN {tables['artifact']} a ON a.id = v.artifact_id "
        f"LEFT JOIN {tables['run']} r ON r.id = v.training_run_id "
        f"JOIN {tables['user']} u ON u.id = v.registered_by_id "
        "WHERE v.id = %s AND "
    )


def version_one(*, actor, id: int) -> db.Record:
    """The version with this id as the list's records (what its answer
    shows), if the actor may see its model, else VersionNotFound (one
    query)."""
    found = _one(actor, _one_version_sql(), "v.model_id", id, _version_record)
    if found is None:
        raise VersionNotFound("No such model version.")
    return found


def _version_record(row) -> db.Record:
    count = len(_VERSION_FIELDS)
    version = db.record(ModelVersion, _VERSION_FIELDS, row[:count])
    name, *artifact = row[count : count + len(ARTIFACT_FIELDS)]
    run_id, username = row[count + len(ARTIFACT_FIELDS) :]
    version.model = db.Record(id=version.model_id, name=name)
    version.artifact = db.record(
        Artifact, ARTIFACT_FIELDS, (version.artifact_id, *artifact)
    )
    version.training_run = (
        None
        if version.training_run_id is None
        else db.Record(id=version.training_run_id, external_run_id=run_id)
    )
    version.registered_by = db.Record(id=version.registered_by_id, username=username)
    return version
