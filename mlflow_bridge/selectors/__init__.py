"""Reads for MLflow clients, limited to what the actor may see.

Each read runs a fixed number of queries whatever the page size: the models or
versions (the permission check inside), one query for the tags, aliases,
governed-alias configuration and live full deployments of the page, and for
models one for their latest versions. A version's MLflow stage and its governed
aliases are computed from the live deployments, never stored.

The reads that MLflow clients repeat most (a model or a version by name, the
page context, the latest versions) are fixed SQL texts run through
``kernel.db``, prepared once per connection; searches, whose filters vary,
build their queries with the ORM.
"""

from dataclasses import dataclass, field
from functools import cache

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform

from approvals.models import Deployment, DeploymentStatus, Environment, Strategy
from kernel import db
from kernel.models import Team
from mlflow_bridge import errors, filters, mapping
from mlflow_bridge.models import (
    GovernedAlias,
    ModelAlias,
    RegisteredModelTag,
    VersionLink,
)
from models_registry import access
from models_registry.models import (
    Artifact,
    ModelVersion,
    RegisteredModel,
    TrainingRun,
    VersionStatus,
)


@dataclass(frozen=True)
class VersionView:
    version: ModelVersion
    stage: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class ModelView:
    model: RegisteredModel
    tags: dict[str, str]
    aliases: dict[str, int]
    latest_versions: list[VersionView] = field(default_factory=list)


@dataclass
class _Context:
    """Governed aliases, live full deployments and stored aliases of some models."""

    governed: dict[str, int]  # alias → environment id
    live: dict[tuple[int, int], tuple[int, int]]  # (model, env) → (version pk, number)
    production_versions: set[int]
    staging_versions: set[int]
    stored: dict[int, dict[str, tuple[int, int]]]  # model → alias → (pk, number)

    def stage(self, version: ModelVersion) -> str:
        if version.pk in self.production_versions:
            return mapping.STAGE_PRODUCTION
        if version.pk in self.staging_versions:
            return mapping.STAGE_STAGING
        if version.status == VersionStatus.ARCHIVED:
            return mapping.STAGE_ARCHIVED
        return mapping.STAGE_NONE

    def model_aliases(self, model_id: int) -> dict[str, int]:
        aliases = {
            alias: number
            for alias, (_, number) in self.stored.get(model_id, {}).items()
            if alias not in self.governed
        }
        for alias, environment_id in self.governed.items():
            live = self.live.get((model_id, environment_id))
            if live is not None:
                aliases[alias] = live[1]
        return dict(sorted(aliases.items()))

    def version_view(self, version: ModelVersion) -> VersionView:
        aliases = sorted(
            alias
            for alias, (pk, _) in self.stored.get(version.model_id, {}).items()
            if pk == version.pk and alias not in self.governed
        )
        aliases += sorted(
            alias
            for alias, environment_id in self.governed.items()
            if self.live.get((version.model_id, environment_id), (None,))[0]
            == version.pk
        )
        return VersionView(version, self.stage(version), tuple(aliases))


def governed_aliases() -> dict[str, int]:
    """Alias → environment id of every governed alias (one query)."""
    return dict(GovernedAlias.objects.values_list("alias", "environment_id"))


def _context_sql(
    model_ids: list[int], version_ids: list[int] | None, with_tags: bool
) -> tuple[str, list]:
    """One UNION ALL over the four small tables; rows are (kind, model id, key,
    value, and four numbers). Written in SQL because this runs on every read and
    the ORM would compile four querysets each time."""
    governed = GovernedAlias._meta.db_table
    deployment = Deployment._meta.db_table
    environment = Environment._meta.db_table
    version = ModelVersion._meta.db_table
    alias = ModelAlias._meta.db_table
    tag = RegisteredModelTag._meta.db_table
    live_models, live_params = db.in_list("d.model_id", model_ids)
    alias_models, alias_params = db.in_list("a.model_id", model_ids)
    parts = [
        f"SELECT 'governed', 0, g.alias, '', g.environment_id, 0, 0, 0 "  # noqa: S608
        f"FROM {governed} g",
        f"SELECT 'live', d.model_id, '', '', d.environment_id, d.version_id, "  # noqa: S608
        f"v.version, CASE WHEN e.is_production THEN 1 ELSE 0 END "
        f"FROM {deployment} d JOIN {version} v ON v.id = d.version_id "
        f"JOIN {environment} e ON e.id = d.environment_id "
        f"WHERE {live_models} AND d.status = %s AND d.strategy = %s",
        f"SELECT 'alias', a.model_id, a.alias, '', a.version_id, v.version, 0, 0 "  # noqa: S608
        f"FROM {alias} a JOIN {version} v ON v.id = a.version_id "
        f"WHERE {alias_models}",
    ]
    params: list = [*live_params, DeploymentStatus.ACTIVE, Strategy.FULL, *alias_params]
    if version_ids is not None:
        alias_versions, version_params = db.in_list("a.version_id", version_ids)
        parts[-1] += f" AND {alias_versions}"
        params += version_params
    if with_tags:
        tag_models, tag_params = db.in_list("t.model_id", model_ids)
        parts.append(
            f"SELECT 'tag', t.model_id, t.key, t.value, 0, 0, 0, 0 "  # noqa: S608
            f"FROM {tag} t WHERE {tag_models}"
        )
        params += tag_params
    return " UNION ALL ".join(parts), params


def _context(
    model_ids: list[int],
    version_ids: list[int] | None = None,
    *,
    with_tags: bool = False,
) -> tuple[_Context, dict[int, dict[str, str]]]:
    """Everything the answers need besides the rows themselves, in one round
    trip: governed aliases, live full deployments, stored aliases and, if
    asked, the models' tags."""
    rows = db.rows(*_context_sql(model_ids, version_ids, with_tags))
    governed, live, stored = {}, {}, {}
    production, staging = set(), set()
    tags: dict[int, dict[str, str]] = {pk: {} for pk in model_ids}
    for kind, model_id, key, value, first, second, third, fourth in rows:
        if kind == "governed":
            governed[key] = first
        elif kind == "live":
            live[(model_id, first)] = (second, third)
            (production if fourth else staging).add(second)
        elif kind == "alias":
            stored.setdefault(model_id, {})[key] = (first, second)
        else:
            tags[model_id][key] = value
    return _Context(governed, live, production, staging, stored), tags


# --- Fixed SQL for the repeated reads (kernel.db) ------------------------------------

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
_MODELS = (
    "SELECT {model_columns}, t.slug, cu.username FROM {model} m "
    "JOIN {team} t ON t.id = m.team_id JOIN {user} cu ON cu.id = m.created_by_id"
)
_VERSIONS = (
    "SELECT {version_columns}, m.name, m.last_version_number, a.uri, a.sha256, "
    "a.size_bytes, a.format, r.external_run_id, ru.username, l.id, l.run_id, "
    "l.run_link FROM {version} v JOIN {model} m ON m.id = v.model_id "
    "JOIN {artifact} a ON a.id = v.artifact_id "
    "LEFT JOIN {run} r ON r.id = v.training_run_id "
    "JOIN {user} ru ON ru.id = v.registered_by_id "
    "LEFT JOIN {link} l ON l.version_id = v.id"
)


@cache
def _sql() -> dict[str, str]:
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
    }


def _page(ordered: QuerySet, offset: int, limit: int) -> tuple[list[int], bool]:
    """The ids of one page of an ordered query, and whether another follows."""
    ids = list(ordered.values_list("pk", flat=True)[offset : offset + limit + 1])
    return ids[:limit], len(ids) > limit


def _by_id(ids: list[int], select: str, column: str, build) -> list:
    """The rows with these ids, built into records, in this order (one query)."""
    if not ids:
        return []
    condition, params = db.in_list(column, ids)
    rows = db.rows(f"{select} WHERE {condition}", params)
    found = {record.pk: record for record in map(build, rows)}
    return [found[pk] for pk in ids]


def _visible(actor, model_column: str) -> tuple[str, list]:
    """The condition limiting rows to models the actor may see."""
    if not access.may(actor):
        return "1 = 0", []
    if actor.is_superuser:
        return "1 = 1", []
    return access.holding_sql(actor, access.VIEW, model_column)


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
    (name, last_number, uri, sha256, size, format_, run_id, username) = row[
        count : count + 8
    ]
    link_id, link_run_id, run_link = row[count + 8 :]
    version.model = db.instance(
        RegisteredModel,
        ("id", "name", "last_version_number"),
        (version.model_id, name, last_number),
    )
    version.artifact = db.instance(
        Artifact,
        ("id", "uri", "sha256", "size_bytes", "format"),
        (version.artifact_id, uri, sha256, size, format_),
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


def _live_params() -> list:
    return [DeploymentStatus.ACTIVE, Strategy.FULL]


# --- Filters and ordering -------------------------------------------------------------


def _compare(lookup: str, clause: filters.Clause) -> Q:
    comparator, value = clause.comparator, clause.value
    if comparator == "=":
        return Q(**{lookup: value})
    if comparator == "!=":
        return ~Q(**{lookup: value})
    if comparator in ("LIKE", "ILIKE"):
        kind = "regex" if comparator == "LIKE" else "iregex"
        return Q(**{f"{lookup}__{kind}": filters.like_to_regex(str(value))})
    if comparator == "IN":
        return Q(**{f"{lookup}__in": list(value)})
    if comparator == "NOT IN":
        return ~Q(**{f"{lookup}__in": list(value)})
    numeric = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
    return Q(**{f"{lookup}__{numeric[comparator]}": value})


def _require(clause: filters.Clause, comparators: tuple[str, ...], what: str) -> None:
    if clause.comparator not in comparators:
        raise errors.invalid(
            f"Invalid comparator '{clause.comparator}' for {what}: use one of "
            f"{', '.join(comparators)}."
        )


def _require_text(clause: filters.Clause) -> None:
    values = clause.value if isinstance(clause.value, tuple) else (clause.value,)
    if not all(isinstance(value, str) for value in values):
        raise errors.invalid(
            f"Invalid value {clause.value!r} for '{clause.key}': quote it as a string."
        )


TEXT = ("=", "!=", "LIKE", "ILIKE")
PROMPT_TAG = "mlflow.prompt.is_prompt"


def filter_models(models: QuerySet, clauses: list[filters.Clause]) -> QuerySet:
    for clause in clauses:
        if clause.kind == "attribute":
            if clause.key != "name":
                raise errors.invalid(
                    f"Invalid attribute name: {clause.key}. Registered models are "
                    "searched by name and tags."
                )
            _require(clause, (*TEXT, "IN", "NOT IN"), "name")
            _require_text(clause)
            models = models.filter(_compare("name", clause))
            continue
        _require(clause, TEXT, "tags")
        _require_text(clause)
        if clause.key == mapping.TEAM_TAG:
            models = models.filter(_compare("team__slug", clause))
        elif clause.key in mapping.MODEL_FIELD_TAGS:
            models = models.filter(
                _compare(mapping.MODEL_FIELD_TAGS[clause.key], clause)
            )
        elif clause.key == mapping.TITLE_TAG:
            models = models.filter(_compare("title", clause))
        elif clause.key == PROMPT_TAG and clause.comparator == "!=":
            # MLflow clients add "tag.`mlflow.prompt.is_prompt` != 'true'" to
            # every model search to leave prompts out; a model without the tag
            # is not a prompt.
            prompts = RegisteredModelTag.objects.filter(
                model=OuterRef("pk"), key=clause.key, value=clause.value
            )
            models = models.exclude(Exists(prompts))
        else:
            value_q = _compare("value", clause)
            tagged = RegisteredModelTag.objects.filter(
                Q(model=OuterRef("pk"), key=clause.key) & value_q
            )
            models = models.filter(Exists(tagged))
    return models


def filter_versions(versions: QuerySet, clauses: list[filters.Clause]) -> QuerySet:
    for index, clause in enumerate(clauses):
        if clause.kind == "tag":
            _require(clause, TEXT, "tags")
            _require_text(clause)
            if clause.key == mapping.SIZE_TAG:
                _require(clause, ("=", "!="), clause.key)
                if not str(clause.value).isdigit():
                    raise errors.invalid(f"{clause.key} is a whole number of bytes.")
                size = filters.Clause(
                    "tag", clause.key, clause.comparator, int(clause.value)
                )
                versions = versions.filter(_compare("artifact__size_bytes", size))
                continue
            if clause.key in mapping.ARTIFACT_FIELD_TAGS:
                lookup = mapping.ARTIFACT_FIELD_TAGS[clause.key]
                versions = versions.filter(_compare(lookup, clause))
                continue
            name = f"mlflow_tag_{index}"
            versions = versions.annotate(**{name: KeyTextTransform(clause.key, "tags")})
            matched = _compare(name, clause)
            if clause.comparator == "!=" and clause.key == PROMPT_TAG:
                matched = Q(**{f"{name}__isnull": True}) | matched
            elif clause.comparator == "!=":
                matched = Q(**{f"{name}__isnull": False}) & matched
            versions = versions.filter(matched)
            continue
        key = clause.key
        if key == "version_number":
            _require(clause, ("=", "!=", ">", ">=", "<", "<="), key)
            if not isinstance(clause.value, int):
                raise errors.invalid(
                    f"Invalid value for numeric attribute 'version_number': "
                    f"{clause.value!r}"
                )
            versions = versions.filter(_compare("version", clause))
        elif key == "name":
            _require(clause, (*TEXT, "IN", "NOT IN"), key)
            _require_text(clause)
            versions = versions.filter(_compare("model__name", clause))
        elif key == "run_id":
            _require(clause, ("=", "!=", "IN", "NOT IN"), key)
            _require_text(clause)
            positive = filters.Clause(
                clause.kind,
                key,
                "IN" if clause.comparator in ("IN", "NOT IN") else "=",
                clause.value,
            )
            matched = _compare("training_run__external_run_id", positive) | _compare(
                "mlflow_link__run_id", positive
            )
            if clause.comparator in ("!=", "NOT IN"):
                matched = ~matched
            versions = versions.filter(matched)
        elif key == "source_path":
            _require(clause, TEXT, key)
            _require_text(clause)
            versions = versions.filter(_compare("artifact__uri", clause))
        else:
            raise errors.invalid(
                f"Invalid attribute name: {key}. Model versions are searched by "
                "name, run_id, source_path, version_number and tags."
            )
    return versions


_MODEL_ORDER = {
    "name": "name",
    "last_updated_timestamp": "updated_at",
    "timestamp": "updated_at",
    "creation_timestamp": "created_at",
}
_VERSION_ORDER = {
    "name": "model__name",
    "version_number": "version",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
}


def _ordering(order_by: list[str], known: dict[str, str]) -> list[str]:
    fields = []
    for clause in order_by:
        parts = clause.split()
        if not parts or len(parts) > 2:
            raise errors.invalid(f"Invalid order_by clause '{clause}'.")
        key = parts[0].strip("`").removeprefix("attribute.")
        direction = parts[1].upper() if len(parts) == 2 else "ASC"
        if key not in known or direction not in ("ASC", "DESC"):
            raise errors.invalid(
                f"Invalid order by key '{clause}' specified. Valid keys are "
                f"{', '.join(sorted(known))}, each with ASC or DESC."
            )
        field_name = known[key]
        if field_name in {name.lstrip("-") for name in fields}:
            raise errors.invalid(f"`order_by` contains duplicate fields: {order_by}")
        fields.append(field_name if direction == "ASC" else f"-{field_name}")
    return fields


def _with_tiebreaks(fields: list[str], tiebreaks: list[str]) -> list[str]:
    present = {name.lstrip("-") for name in fields}
    return fields + [name for name in tiebreaks if name.lstrip("-") not in present]


# --- Registered models ---------------------------------------------------------------


def model_get(*, actor, name: str) -> RegisteredModel:
    visible, params = _visible(actor, "m.id")
    found = db.rows(
        f"{_sql()['models']} WHERE m.name = %s AND {visible}", [name, *params]
    )
    if not found:
        raise errors.does_not_exist(f"Registered Model with name={name} not found")
    return _model_row(found[0])


def model_views(models: list[RegisteredModel]) -> list[ModelView]:
    """Tags, aliases and latest version per stage of each model (two queries)."""
    if not models:
        return []
    ids = [model.pk for model in models]
    context, tags = _context(ids, with_tags=True)
    latest = _latest_versions(models, context)
    return [
        ModelView(
            model=model,
            tags={**tags[model.pk], **rendered_model_tags(model)},
            aliases=context.model_aliases(model.pk),
            latest_versions=latest.get(model.pk, []),
        )
        for model in models
    ]


def rendered_model_tags(model: RegisteredModel) -> dict[str, str]:
    tags = {tag: getattr(model, name) for tag, name in mapping.MODEL_FIELD_TAGS.items()}
    tags[mapping.TEAM_TAG] = model.team.slug
    return tags


def _highest_per_stage(versions, context: _Context) -> dict[int, list[VersionView]]:
    by_stage: dict[int, dict[str, VersionView]] = {}
    for version in versions:
        view = context.version_view(version)
        current = by_stage.setdefault(version.model_id, {}).get(view.stage)
        if current is None or current.version.version < version.version:
            by_stage[version.model_id][view.stage] = view
    return {
        model_id: sorted(views.values(), key=lambda view: view.version.version)
        for model_id, views in by_stage.items()
    }


def _latest_exact(ids: list[int], context: _Context) -> dict[int, list[VersionView]]:
    """The highest version in each MLflow stage, per model (one query): the live
    ones, and the highest archived and highest other version that is not live."""
    sql = _sql()
    models, params = db.in_list("v.model_id", ids)
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
    return _highest_per_stage([_version_row(row) for row in found], context)


def _latest_versions(
    models: list[RegisteredModel], context: _Context
) -> dict[int, list[VersionView]]:
    """What model answers list as ``latest_versions``."""
    return _latest_exact([model.pk for model in models], context)


def model_search(
    *,
    actor,
    filter_string: str | None,
    order_by: list[str],
    offset: int,
    limit: int,
) -> tuple[list[ModelView], bool]:
    """A page of visible models and whether another page follows (as
    version_search)."""
    models = filter_models(access.models_for(actor), filters.parse(filter_string))
    ordering = _with_tiebreaks(_ordering(order_by, _MODEL_ORDER), ["name"])
    ids, more = _page(models.order_by(*ordering), offset, limit)
    return model_views(_by_id(ids, _sql()["models"], "m.id", _model_row)), more


def latest_versions(*, actor, name: str, stages: list[str]) -> list[VersionView]:
    model = model_get(actor=actor, name=name)
    wanted = set()
    for stage in stages:
        canonical = mapping.canonical_stage(stage)
        if canonical is None:
            raise errors.invalid(
                f"Invalid Model Version stage: {stage}. Value must be one of "
                f"{', '.join(mapping.STAGES)}."
            )
        wanted.add(canonical)
    context, _ = _context([model.pk])
    views = _latest_exact([model.pk], context).get(model.pk, [])
    return [view for view in views if not wanted or view.stage in wanted]


# --- Model versions ------------------------------------------------------------------


def version_views(versions: list[ModelVersion]) -> list[VersionView]:
    """Stage and aliases of each version (three queries)."""
    if not versions:
        return []
    context, _ = _context(
        sorted({version.model_id for version in versions}),
        [version.pk for version in versions],
    )
    return [context.version_view(version) for version in versions]


def version_get(*, actor, name: str, number: int) -> ModelVersion:
    visible, params = _visible(actor, "m.id")
    found = db.rows(
        f"{_sql()['versions']} WHERE m.name = %s AND v.version = %s AND {visible}",
        [name, number, *params],
    )
    if not found:
        raise errors.does_not_exist(
            f"Model Version (name={name}, version={number}) not found"
        )
    return _version_row(found[0])


def version_search(
    *,
    actor,
    filter_string: str | None,
    order_by: list[str],
    offset: int,
    limit: int,
) -> tuple[list[VersionView], bool]:
    """A page of visible versions and whether another page follows: the ids
    of the page from the filtered, ordered query, then their rows with the
    fixed SQL."""
    clauses = filters.parse(filter_string)
    versions = filter_versions(
        access.limit_to(actor, ModelVersion.objects.all(), "model_id"), clauses
    )
    ordering = _ordering(
        order_by or ["last_updated_timestamp DESC", "name ASC", "version_number DESC"],
        _VERSION_ORDER,
    )
    ordering = _with_tiebreaks(ordering, ["model__name", "-version"])
    ids, more = _page(versions.order_by(*ordering), offset, limit)
    return version_views(_by_id(ids, _sql()["versions"], "v.id", _version_row)), more


def version_by_alias(*, actor, name: str, alias: str) -> VersionView:
    """The version an alias names; a governed alias names what is live."""
    model = model_get(actor=actor, name=name)
    if alias.lower() == mapping.LATEST_ALIAS:
        number = model.last_version_number
        if number == 0:
            raise errors.does_not_exist(f"Latest version not found for model {name}.")
        return version_views([version_get(actor=actor, name=name, number=number)])[0]
    context, _ = _context([model.pk])
    if alias in context.governed:
        live = context.live.get((model.pk, context.governed[alias]))
        if live is None:
            environment = (
                GovernedAlias.objects.select_related("environment")
                .get(alias=alias)
                .environment
            )
            raise errors.invalid(
                f"Registered model alias {alias} not found. It is governed: it names "
                f"the version live (full traffic) in {environment}, and no version "
                f"of {name} is live there."
            )
        number = live[1]
    elif alias in context.stored.get(model.pk, {}):
        number = context.stored[model.pk][alias][1]
    else:
        raise errors.invalid(f"Registered model alias {alias} not found.")
    return context.version_view(version_get(actor=actor, name=name, number=number))
