"""Registered models for MLflow clients: one by name, searches, and their
latest version per stage."""

from mlflow_bridge import errors, filters, mapping, prompts
from mlflow_bridge.selectors import fixed_sql, search
from mlflow_bridge.selectors.context import (
    ModelView,
    PageContext,
    VersionView,
    page_context,
)
from models_registry import access
from models_registry.models import EntryKind, RegisteredModel


def model_get(*, actor, name: str) -> RegisteredModel:
    model = fixed_sql.model_named(actor, name)
    if model is None:
        raise errors.does_not_exist(f"Registered Model with name={name} not found")
    return model


def model_view(*, actor, name: str) -> ModelView:
    """The answer of one model: the model and its page context in one query
    (on PostgreSQL), then its latest versions."""
    found, rows = fixed_sql.model_answer(actor, name)
    if found is None:
        raise errors.does_not_exist(f"Registered Model with name={name} not found")
    return model_views([found], rows=rows)[0]


def model_views(models: list[RegisteredModel], rows: list | None = None):
    """Tags, aliases and latest version per stage of each model (two
    queries; one with the context ``rows`` read already)."""
    if not models:
        return []
    ids = [model.pk for model in models]
    context, tags = page_context(ids, with_tags=True, rows=rows)
    latest = _latest_versions(models, context)
    return [
        ModelView(
            model=model,
            tags={**tags[model.pk], **rendered_model_tags(model)},
            aliases=context.model_aliases(model),
            latest_versions=latest.get(model.pk, []),
        )
        for model in models
    ]


def created_model_view(model: RegisteredModel, tags: dict[str, str]) -> ModelView:
    """The answer for a model just registered, from what the registration
    wrote (no query): its stored tags, no aliases and no versions yet."""
    stored = {key: value for key, value in tags.items() if not mapping.is_reserved(key)}
    return ModelView(
        model=model, tags={**stored, **rendered_model_tags(model)}, aliases={}
    )


def rendered_model_tags(model: RegisteredModel) -> dict[str, str]:
    tags = {tag: getattr(model, name) for tag, name in mapping.MODEL_FIELD_TAGS.items()}
    tags[mapping.TEAM_TAG] = model.team.slug
    if getattr(model, "kind", "model") == EntryKind.PROMPT:
        tags[prompts.IS_PROMPT_TAG] = "true"
    tags[mapping.TITLE_TAG] = model.title
    if model.latency_slo_ms is not None:
        tags[mapping.LATENCY_TAG] = str(model.latency_slo_ms)
    return tags


def _highest_per_stage(versions, context: PageContext) -> dict[int, list[VersionView]]:
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


def _latest_exact(ids: list[int], context: PageContext) -> dict[int, list[VersionView]]:
    """The highest version in each MLflow stage, per model (one query): the live
    ones, and the highest archived and highest other version that is not live."""
    return _highest_per_stage(fixed_sql.latest_versions(ids), context)


def _latest_versions(
    models: list[RegisteredModel], context: PageContext
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
    models = search.filter_models(
        access.models_for(actor), filters.parse(filter_string)
    )
    ordering = search.with_tiebreaks(
        search.ordering(order_by, search.MODEL_ORDER), ["name"]
    )
    page, more = fixed_sql.models_page(models.order_by(*ordering), offset, limit)
    return model_views(page), more


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
    context, _ = page_context([model.pk])
    views = _latest_exact([model.pk], context).get(model.pk, [])
    return [view for view in views if not wanted or view.stage in wanted]
