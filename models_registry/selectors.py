"""Reads of the registry, already limited to what the actor may see.

Every list and detail in the API, the pages and the exports goes through these,
so a list can never show what a detail page hides. Each runs a fixed number of
queries whatever the data.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from kernel import db
from kernel.models import Team
from models_registry import access
from models_registry.checklist import Item, compute_checklist, review_summary
from models_registry.errors import (
    DatasetNotFound,
    ModelNotFound,
    RunNotFound,
    VersionNotFound,
)
from models_registry.fairness import (
    Disparity,
    fairness_disparities,
    metric_directions,
)
from models_registry.models import (
    Artifact,
    DatasetSnapshot,
    Evaluation,
    FairnessSlice,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    ReproductionCheck,
    TrainingRun,
    TrainingRunInput,
)


def model_list(
    *, actor, filters: dict[str, Any] | None = None, with_counts: bool = True
) -> QuerySet:
    """Models the actor may see, with their team and (``with_counts``, for the
    pages) their version count.

    Filters: ``kind`` (``model``, the default, ``prompt``, ``llm_app`` or ``all``),
    ``risk_class``, ``domain``, ``team`` (slug), ``serving_mode``, ``status``
    (has a version in that status), ``search`` (name, title).
    """
    filters = filters or {}
    models = access.models_for(actor).select_related("team")
    kind = filters.get("kind") or "model"
    if kind != "all":
        models = models.filter(kind=kind)
    for field in ("risk_class", "domain", "serving_mode"):
        if filters.get(field):
            models = models.filter(**{field: filters[field]})
    if filters.get("team"):
        models = models.filter(team__slug=filters["team"])
    if filters.get("status"):
        models = models.filter(
            Exists(
                ModelVersion.objects.filter(
                    model=OuterRef("pk"), status=filters["status"]
                )
            )
        )
    if filters.get("search"):
        term = filters["search"].strip()
        models = models.filter(Q(name__icontains=term) | Q(title__icontains=term))
    if with_counts:
        models = models.annotate(version_count=Count("versions", distinct=True))
    return models.order_by("name")


# --- One model or version by key: fixed SQL (kernel.db), prepared once per
# connection, the visibility rule inside, whole rows built into instances. The
# API and pages read these on every detail; the ORM would compile the joins and
# the rule on each call.


def _attnames(model) -> tuple[str, ...]:
    return tuple(field.attname for field in model._meta.concrete_fields)


@cache
def _detail_sql() -> dict[str, Any]:
    parts = {
        "m": (RegisteredModel, _attnames(RegisteredModel)),
        "t": (Team, _attnames(Team)),
        "v": (ModelVersion, _attnames(ModelVersion)),
        "a": (Artifact, _attnames(Artifact)),
        "r": (TrainingRun, _attnames(TrainingRun)),
        "u": (get_user_model(), ("id", "username")),
    }
    columns = {
        alias: ", ".join(f"{alias}.{name}" for name in names)
        for alias, (_, names) in parts.items()
    }
    model_from = (
        f"FROM {RegisteredModel._meta.db_table} m "
        f"JOIN {Team._meta.db_table} t ON t.id = m.team_id"
    )
    return {
        "parts": parts,
        "model": f"SELECT {columns['m']}, {columns['t']} {model_from} "
        "WHERE m.name = %s AND ",
        "version": (
            f"SELECT {columns['v']}, {columns['m']}, {columns['t']}, "  # noqa: S608
            f"{columns['a']}, {columns['u']}, {columns['r']} "
            f"FROM {ModelVersion._meta.db_table} v "
            f"JOIN {RegisteredModel._meta.db_table} m ON m.id = v.model_id "
            f"JOIN {Team._meta.db_table} t ON t.id = m.team_id "
            f"JOIN {Artifact._meta.db_table} a ON a.id = v.artifact_id "
            f"JOIN {get_user_model()._meta.db_table} u ON u.id = v.registered_by_id "
            f"LEFT JOIN {TrainingRun._meta.db_table} r ON r.id = v.training_run_id "
            "WHERE v.id = %s AND "
        ),
    }


def _build(row, aliases: str) -> dict:
    """Instances of the parts named by ``aliases`` from consecutive columns."""
    parts, built, start = _detail_sql()["parts"], {}, 0
    for alias in aliases:
        model, names = parts[alias]
        values = row[start : start + len(names)]
        start += len(names)
        built[alias] = None if values[0] is None else db.instance(model, names, values)
    return built


def model_get(*, actor, name: str) -> RegisteredModel:
    """The model of this name with its team, if the actor may see it (one
    query)."""
    visible, params = access.visible_sql(actor, "m.id")
    rows = db.rows(_detail_sql()["model"] + visible, [name, *params])
    if not rows:
        raise ModelNotFound("No such model.")
    built = _build(rows[0], "mt")
    model = built["m"]
    model.team = built["t"]
    return model


def _versions_base() -> QuerySet:
    return ModelVersion.objects.select_related(
        "model", "model__team", "artifact", "training_run", "registered_by"
    )


def version_list(
    *, actor, model: RegisteredModel | None = None, filters: dict | None = None
) -> QuerySet:
    filters = filters or {}
    if model is not None:
        # One model: its visibility once (a prepared query), not per row.
        if not access.has_model_permission(actor, model, access.VIEW):
            return ModelVersion.objects.none()
        versions = _versions_base().filter(model=model)
    else:
        visible = access.models_for(actor).values("pk")
        versions = _versions_base().filter(model__in=visible)
    if filters.get("status"):
        versions = versions.filter(status=filters["status"])
    if filters.get("model"):
        versions = versions.filter(model__name=filters["model"])
    if filters.get("tag"):
        key, _, value = filters["tag"].partition("=")
        versions = versions.filter(tags__contains={key: value})
    return versions.order_by("model__name", "-version")


def version_get(*, actor, id: int) -> ModelVersion:
    """The version with its model and team, artifact, training run and
    registrant, if the actor may see its model (one query)."""
    visible, params = access.visible_sql(actor, "m.id")
    rows = db.rows(_detail_sql()["version"] + visible, [id, *params])
    if not rows:
        raise VersionNotFound("No such model version.")
    built = _build(rows[0], "vmtaur")
    version, model = built["v"], built["m"]
    model.team = built["t"]
    version.model = model
    version.artifact = built["a"]
    version.registered_by = built["u"]
    version.training_run = built["r"]
    return version


def version_get_by_number(*, actor, model_name: str, number: int) -> ModelVersion:
    model = model_get(actor=actor, name=model_name)
    version = _versions_base().filter(model=model, version=number).first()
    if version is None:
        raise VersionNotFound("No such model version.")
    return version


def dataset_list(*, actor, filters: dict | None = None) -> QuerySet:
    """Snapshots of the actor's teams, and snapshots used by models they may see."""
    filters = filters or {}
    snapshots = DatasetSnapshot.objects.select_related("team")
    if not (
        actor.is_superuser or actor.has_perm("models_registry.view_datasetsnapshot")
    ):
        used_by_visible = TrainingRunInput.objects.filter(
            snapshot=OuterRef("pk"),
            run__model__in=access.models_for(actor).values("pk"),
        )
        snapshots = snapshots.filter(
            Q(team__group__user=actor) | Q(Exists(used_by_visible))
        ).distinct()
    if filters.get("team"):
        snapshots = snapshots.filter(team__slug=filters["team"])
    if filters.get("sha256"):
        snapshots = snapshots.filter(sha256=filters["sha256"])
    if filters.get("search"):
        snapshots = snapshots.filter(name__icontains=filters["search"])
    return snapshots.order_by("-created_at", "-pk")


def dataset_get(*, actor, id: int) -> DatasetSnapshot:
    snapshot = dataset_list(actor=actor).filter(pk=id).first()
    if snapshot is None:
        raise DatasetNotFound("No such dataset snapshot.")
    return snapshot


def run_list(*, actor, model: RegisteredModel | None = None) -> QuerySet:
    runs = TrainingRun.objects.select_related("model").filter(
        model__in=access.models_for(actor).values("pk")
    )
    if model is not None:
        runs = runs.filter(model=model)
    return runs.prefetch_related(
        Prefetch(
            "run_inputs", queryset=TrainingRunInput.objects.select_related("snapshot")
        )
    ).order_by("-created_at", "-pk")


def run_get(*, actor, id: int) -> TrainingRun:
    run = run_list(actor=actor).filter(pk=id).first()
    if run is None:
        raise RunNotFound("No such training run.")
    return run


def evaluations_of(version: ModelVersion) -> list[Evaluation]:
    return list(
        Evaluation.objects.filter(version=version)
        .select_related("dataset")
        .prefetch_related(
            Prefetch(
                "slices", queryset=FairnessSlice.objects.order_by("attribute", "group")
            )
        )
        .order_by("split", "-created_at", "-pk")
    )


@dataclass(frozen=True)
class VersionDetail:
    version: ModelVersion
    card: ModelCard | None
    evaluations: list[Evaluation]
    disparities: dict[int, list[Disparity]]
    run_inputs: list[TrainingRunInput]
    reproduction_checks: list[ReproductionCheck]
    checklist: list[Item]
    review: list[dict[str, Any]]
    permissions: frozenset[str]

    @property
    def is_checklist_passed(self) -> bool:
        return all(item.is_passed for item in self.checklist)


def version_detail(*, actor, id: int) -> VersionDetail:
    """Everything a version page shows, in a fixed number of queries."""
    version = version_get(actor=actor, id=id)
    return _detail(actor, version)


def _detail(actor, version: ModelVersion) -> VersionDetail:
    card = (
        ModelCard.objects.filter(version=version).select_related("updated_by").first()
    )
    evaluations = evaluations_of(version)
    run_inputs = (
        list(
            TrainingRunInput.objects.filter(run_id=version.training_run_id)
            .select_related("snapshot")
            .order_by("role", "snapshot__name")
        )
        if version.training_run_id
        else []
    )
    checks = list(
        ReproductionCheck.objects.filter(version=version).order_by("-created_at", "-pk")
    )
    checklist = compute_checklist(
        version=version,
        evaluations=evaluations,
        run_inputs=run_inputs,
        card=card,
        reproduction_checks=checks,
    )
    return VersionDetail(
        version=version,
        card=card,
        evaluations=evaluations,
        disparities={
            evaluation.pk: fairness_disparities(
                evaluation.slices.all(), metric_directions(version.model)
            )
            for evaluation in evaluations
        },
        run_inputs=run_inputs,
        reproduction_checks=checks,
        checklist=checklist,
        review=review_summary(checklist),
        permissions=access.model_permissions(actor, version.model),
    )


def checklist_of(version: ModelVersion) -> list[Item]:
    """The checklist of a version the caller has already been allowed to see
    (services that gate deployments call it after their own permission check)."""
    card = ModelCard.objects.filter(version=version).first()
    run_inputs = (
        list(
            TrainingRunInput.objects.filter(
                run_id=version.training_run_id
            ).select_related("snapshot")
        )
        if version.training_run_id
        else []
    )
    return compute_checklist(
        version=version,
        evaluations=evaluations_of(version),
        run_inputs=run_inputs,
        card=card,
        reproduction_checks=list(ReproductionCheck.objects.filter(version=version)),
    )


def version_checklist(*, actor, id: int) -> tuple[ModelVersion, list[Item], list[dict]]:
    detail = version_detail(actor=actor, id=id)
    return detail.version, detail.checklist, detail.review


def model_versions_with_test_metrics(*, actor, model: RegisteredModel) -> list[dict]:
    """Versions side by side with their latest test metrics (two queries)."""
    versions = list(version_list(actor=actor, model=model))
    latest: dict[int, Evaluation] = {}
    for evaluation in Evaluation.objects.filter(
        version__model=model, split="test"
    ).order_by("version_id", "created_at", "pk"):
        latest[evaluation.version_id] = evaluation
    metric_names = [target["metric"] for target in model.offline_success_metrics]
    rows = []
    for version in versions:
        evaluation = latest.get(version.pk)
        metrics = evaluation.metrics if evaluation else {}
        rows.append(
            {
                "version": version,
                "metrics": [metrics.get(name) for name in metric_names],
            }
        )
    return rows


# --- Prompts -------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptView:
    """What people read of a prompt version: the template as text (a chat as
    role-labelled blocks), the model settings as labelled lines."""

    template_type: str
    text: str
    settings: list[str]
    variables: list[str]
    content_hash: str
    content: Any  # the PromptContent row

    @property
    def full_text(self) -> str:
        """Template and settings, the text diffs compare."""
        if not self.settings:
            return self.text
        return "\n".join([self.text, "", *self.settings])


def prompt_view(version: ModelVersion) -> PromptView | None:
    """The prompt of a version (None for a model's version). One query unless
    the caller selected ``prompt`` with the version."""
    from models_registry import prompt_text
    from models_registry.models import PromptContent

    try:
        content = version.prompt
    except PromptContent.DoesNotExist:
        return None
    return PromptView(
        template_type=content.template_type,
        text=prompt_text.display_text(
            content.template_type, content.template, content.messages
        ),
        settings=prompt_text.settings_lines(
            content.model_config, content.response_format
        ),
        variables=list(content.variables),
        content_hash=content.content_hash,
        content=content,
    )


def prompt_version_content(version: ModelVersion) -> str:
    """A prompt version's template as display text ("" for a model's version):
    text as written, a chat as "System:" / "User:" blocks, never JSON."""
    view = prompt_view(version)
    return view.text if view else ""


@dataclass(frozen=True)
class PromptDiff:
    """A prompt version's text against another version's (difflib lines)."""

    other: ModelVersion
    lines: list
    is_same: bool


def prompt_diff(version: ModelVersion, other: ModelVersion | None) -> PromptDiff | None:
    """The diff of ``version``'s template and settings against ``other``'s
    (None without another prompt version to compare with)."""
    from models_registry.prompt_text import text_diff

    mine = prompt_view(version)
    theirs = prompt_view(other) if other is not None else None
    if mine is None or theirs is None:
        return None
    return PromptDiff(
        other=other,
        lines=text_diff(theirs.full_text, mine.full_text),
        is_same=theirs.content_hash == mine.content_hash,
    )


def prompt_previous(version: ModelVersion) -> ModelVersion | None:
    """The prompt version numbered just before this one (one query)."""
    if version.version <= 1:
        return None
    return (
        ModelVersion.objects.select_related("prompt")
        .filter(model_id=version.model_id, version=version.version - 1)
        .first()
    )
