"""What MLflow answers show besides the rows themselves: the stage and aliases of
versions and models, from the governed-alias configuration, the live full
deployments and the stored aliases of a page of models, read in one round trip.
A version's MLflow stage and its governed aliases are computed, never stored.
"""

from dataclasses import dataclass, field

from approvals.models import Deployment, DeploymentStatus, Environment, Strategy
from kernel import db
from mlflow_bridge import mapping
from mlflow_bridge.models import GovernedAlias, ModelAlias, RegisteredModelTag
from models_registry.models import ModelVersion, RegisteredModel, VersionStatus


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


@dataclass(frozen=True)
class GovernedRule:
    """One row of the governed-alias configuration (0 for "any")."""

    alias: str
    kind: str  # "" for every kind
    team_id: int
    model_id: int
    environment_id: int  # 0: the alias is free where the rule applies

    def rank(self, model) -> int | None:
        """How specifically the rule applies to ``model`` (higher wins), or None."""
        if self.kind and self.kind != getattr(model, "kind", "model"):
            return None
        if self.model_id:
            level = 4 if self.model_id == model.id else None
        elif self.team_id:
            level = 2 if self.team_id == model.team_id else None
        else:
            level = 0
        return None if level is None else level + (1 if self.kind else 0)


def resolve_governed(rules: list[GovernedRule], model) -> dict[str, int]:
    """Alias → environment id of the aliases governed for ``model`` (a model
    or record with ``id``, ``kind`` and ``team_id``): per alias the most
    specific rule, which may make it free."""
    best: dict[str, tuple[int, int]] = {}
    for rule in rules:
        rank = rule.rank(model)
        if rank is not None and (rule.alias not in best or best[rule.alias][0] < rank):
            best[rule.alias] = (rank, rule.environment_id)
    return {alias: env for alias, (_, env) in sorted(best.items()) if env}


@dataclass
class PageContext:
    """Governed aliases, live full deployments and stored aliases of some models."""

    rules: list[GovernedRule]
    live: dict[tuple[int, int], tuple[int, int]]  # (model, env) → (version pk, number)
    production_versions: set[int]
    staging_versions: set[int]
    stored: dict[int, dict[str, tuple[int, int]]]  # model → alias → (pk, number)
    _governed: dict[int, dict[str, int]] = field(default_factory=dict)

    def governed(self, model) -> dict[str, int]:
        """Alias → environment id of the aliases governed for ``model``."""
        if model.id not in self._governed:
            self._governed[model.id] = resolve_governed(self.rules, model)
        return self._governed[model.id]

    def stage(self, version: ModelVersion) -> str:
        if version.pk in self.production_versions:
            return mapping.STAGE_PRODUCTION
        if version.pk in self.staging_versions:
            return mapping.STAGE_STAGING
        if version.status == VersionStatus.ARCHIVED:
            return mapping.STAGE_ARCHIVED
        return mapping.STAGE_NONE

    def model_aliases(self, model) -> dict[str, int]:
        governed = self.governed(model)
        aliases = {
            alias: number
            for alias, (_, number) in self.stored.get(model.id, {}).items()
            if alias not in governed
        }
        for alias, environment_id in governed.items():
            live = self.live.get((model.id, environment_id))
            if live is not None:
                aliases[alias] = live[1]
        return dict(sorted(aliases.items()))

    def version_view(self, version: ModelVersion) -> VersionView:
        governed = self.governed(version.model)
        aliases = sorted(
            alias
            for alias, (pk, _) in self.stored.get(version.model_id, {}).items()
            if pk == version.pk and alias not in governed
        )
        aliases += sorted(
            alias
            for alias, environment_id in governed.items()
            if self.live.get((version.model_id, environment_id), (None,))[0]
            == version.pk
        )
        return VersionView(version, self.stage(version), tuple(aliases))


def governed_rules() -> list[GovernedRule]:
    """Every row of the governed-alias configuration (one query)."""
    return [
        GovernedRule(alias, kind, team or 0, model or 0, environment or 0)
        for alias, kind, team, model, environment in GovernedAlias.objects.values_list(
            "alias", "kind", "team_id", "model_id", "environment_id"
        )
    ]


def governed_for(model) -> dict[str, int]:
    """Alias → environment id of the aliases governed for one entry (one query)."""
    return resolve_governed(governed_rules(), model)


def governed_aliases() -> set[str]:
    """Every alias some rule governs somewhere (one query)."""
    return {rule.alias for rule in governed_rules() if rule.environment_id}


def _matching(column: str, values: list[int] | str) -> tuple[str, list]:
    """``column`` in a list of ids, or equal to a column of an outer query."""
    if isinstance(values, str):
        return f"{column} = {values}", []
    return db.in_list(column, values)


def context_sql(
    model_ids: list[int] | str,
    version_ids: list[int] | str | None,
    with_tags: bool,
) -> tuple[str, list]:
    """One UNION ALL over the four small tables; rows are (kind, model id, key,
    value, and four numbers). ``model_ids`` (and ``version_ids``) are a list of
    ids or a column of an outer query (the context of that query's row, as a
    subquery). Written in SQL because this runs on every read and the ORM
    would compile four querysets each time."""
    governed = GovernedAlias._meta.db_table
    deployment = Deployment._meta.db_table
    environment = Environment._meta.db_table
    version = ModelVersion._meta.db_table
    alias = ModelAlias._meta.db_table
    tag = RegisteredModelTag._meta.db_table
    live_models, live_params = _matching("d.model_id", model_ids)
    alias_models, alias_params = _matching("a.model_id", model_ids)
    parts = [
        f"SELECT 'governed' AS kind, COALESCE(g.model_id, 0) AS model, "  # noqa: S608
        f"g.alias AS key, g.kind AS value, COALESCE(g.environment_id, 0) AS first, "
        f"COALESCE(g.team_id, 0) AS second, 0 AS third, 0 AS fourth "
        f"FROM {governed} g",
        f"SELECT 'live', d.model_id, '', '', d.environment_id, d.version_id, "  # noqa: S608
        f"cv.version, CASE WHEN e.is_production THEN 1 ELSE 0 END "
        f"FROM {deployment} d JOIN {version} cv ON cv.id = d.version_id "
        f"JOIN {environment} e ON e.id = d.environment_id "
        f"WHERE {live_models} AND d.status = %s AND d.strategy = %s",
        f"SELECT 'alias', a.model_id, a.alias, '', a.version_id, cv.version, 0, 0 "  # noqa: S608
        f"FROM {alias} a JOIN {version} cv ON cv.id = a.version_id "
        f"WHERE {alias_models}",
    ]
    params: list = [*live_params, DeploymentStatus.ACTIVE, Strategy.FULL, *alias_params]
    if version_ids is not None:
        alias_versions, version_params = _matching("a.version_id", version_ids)
        parts[-1] += f" AND {alias_versions}"
        params += version_params
    if with_tags:
        tag_models, tag_params = _matching("t.model_id", model_ids)
        parts.append(
            f"SELECT 'tag', t.model_id, t.key, t.value, 0, 0, 0, 0 "  # noqa: S608
            f"FROM {tag} t WHERE {tag_models}"
        )
        params += tag_params
    return " UNION ALL ".join(parts), params


def context_column(
    model_column: str, version_column: str | None, *, with_tags: bool
) -> tuple[str, list]:
    """On PostgreSQL, a select-list expression with the context rows of an
    outer query's row as one JSON array (its ids in ``model_column`` and
    ``version_column``): the row and its context in one round trip. The rows
    hold only text and integers, which JSON carries unchanged."""
    sql, params = context_sql(model_column, version_column, with_tags)
    columns = "x.kind, x.model, x.key, x.value, x.first, x.second, x.third, x.fourth"
    return (
        f"(SELECT COALESCE(json_agg(json_build_array({columns})), '[]') "  # noqa: S608
        f"FROM ({sql}) x)",
        params,
    )


def page_context(
    model_ids: list[int],
    version_ids: list[int] | None = None,
    *,
    with_tags: bool = False,
    rows: list | None = None,
) -> tuple[PageContext, dict[int, dict[str, str]]]:
    """Everything the answers need besides the rows themselves, in one round
    trip: governed aliases, live full deployments, stored aliases and, if
    asked, the models' tags (or from ``rows`` read already with
    ``context_column``)."""
    if rows is None:
        rows = db.rows(*context_sql(model_ids, version_ids, with_tags))
    rules: list[GovernedRule] = []
    live, stored = {}, {}
    production, staging = set(), set()
    tags: dict[int, dict[str, str]] = {pk: {} for pk in model_ids}
    for kind, model_id, key, value, first, second, third, fourth in rows:
        if kind == "governed":
            rules.append(GovernedRule(key, value, second, model_id, first))
        elif kind == "live":
            live[(model_id, first)] = (second, third)
            (production if fourth else staging).add(second)
        elif kind == "alias":
            stored.setdefault(model_id, {})[key] = (first, second)
        else:
            tags[model_id][key] = value
    return PageContext(rules, live, production, staging, stored), tags
