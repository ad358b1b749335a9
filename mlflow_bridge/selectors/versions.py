"""Model versions for MLflow clients: one by number or alias, and searches."""

from approvals.models import Environment
from mlflow_bridge import errors, filters, mapping
from mlflow_bridge.selectors import fixed_sql, search
from mlflow_bridge.selectors.context import VersionView, page_context
from mlflow_bridge.selectors.registered_models import model_get
from models_registry import access
from models_registry.models import ModelVersion


def version_views(
    versions: list[ModelVersion], rows: list | None = None
) -> list[VersionView]:
    """Stage and aliases of each version (one query; none with the context
    ``rows`` read already)."""
    if not versions:
        return []
    context, _ = page_context(
        sorted({version.model_id for version in versions}),
        [version.pk for version in versions],
        rows=rows,
    )
    return [context.version_view(version) for version in versions]


def version_view(*, actor, name: str, number: int) -> VersionView:
    """The answer of one version: the version and its stage and aliases in
    one query (on PostgreSQL)."""
    found, rows = fixed_sql.version_answer(actor, name, number)
    if found is None:
        raise errors.does_not_exist(
            f"Model Version (name={name}, version={number}) not found"
        )
    return version_views([found], rows=rows)[0]


def created_version_view(version: ModelVersion) -> VersionView:
    """The answer for a version just registered, from what the registration
    wrote (no query): a new version is not live and no alias names it."""
    return VersionView(version, mapping.STAGE_NONE, ())


def version_get(*, actor, name: str, number: int) -> ModelVersion:
    version = fixed_sql.version_numbered(actor, name, number)
    if version is None:
        raise errors.does_not_exist(
            f"Model Version (name={name}, version={number}) not found"
        )
    return version


def version_search(
    *,
    actor,
    filter_string: str | None,
    order_by: list[str],
    offset: int,
    limit: int,
) -> tuple[list[VersionView], bool]:
    """A page of visible versions and whether another page follows: the
    filtered, ordered query's page inside the fixed SQL of their rows."""
    clauses = filters.parse(filter_string)
    if not order_by and _one_models_versions(clauses):
        page, more = fixed_sql.model_versions_page(
            actor, clauses[0].value, offset, limit
        )
        return version_views(page), more
    versions = search.filter_versions(
        access.limit_to(actor, ModelVersion.objects.all(), "model_id"), clauses
    )
    ordering = search.ordering(
        order_by or ["last_updated_timestamp DESC", "name ASC", "version_number DESC"],
        search.VERSION_ORDER,
    )
    ordering = search.with_tiebreaks(ordering, ["model__name", "-version"])
    page, more = fixed_sql.versions_page(versions.order_by(*ordering), offset, limit)
    return version_views(page), more


def _one_models_versions(clauses: list[filters.Clause]) -> bool:
    """Whether the search is MLflow clients' most frequent one, a model's
    versions (``name = '…'`` and nothing else), which has its own fixed SQL
    text: the same page as the general search, without compiling the ORM's
    query on each call."""
    return (
        len(clauses) == 1
        and clauses[0] == filters.Clause("attribute", "name", "=", clauses[0].value)
        and isinstance(clauses[0].value, str)
    )


def version_by_alias(*, actor, name: str, alias: str) -> VersionView:
    """The version an alias names; a governed alias names what is live."""
    model = model_get(actor=actor, name=name)
    if alias.lower() == mapping.LATEST_ALIAS:
        number = model.last_version_number
        if number == 0:
            raise errors.does_not_exist(f"Latest version not found for model {name}.")
        return version_views([version_get(actor=actor, name=name, number=number)])[0]
    context, _ = page_context([model.pk])
    governed = context.governed(model)
    if alias in governed:
        live = context.live.get((model.pk, governed[alias]))
        if live is None:
            environment = Environment.objects.get(pk=governed[alias])
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
