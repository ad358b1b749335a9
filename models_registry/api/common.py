"""What every registry endpoint shares: the parser, input parsing, pagination and
the documented error responses."""

from datetime import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter

from kernel import teams
from kernel.api import ApiView, LenientJSONParser, error_example, error_response
from kernel.models import Team
from models_registry import selectors
from models_registry.errors import RegistryInvalid
from models_registry.models import DatasetSnapshot


# The kernel's API base with the registry's 400 error and wording; the body parse
# message is passed per call (it names what was not written). A comment, not a
# docstring: drf-spectacular would publish it as operations' descriptions.
class RegistryView(ApiView):
    parser_classes = [LenientJSONParser]
    invalid_error = RegistryInvalid
    query_message = "The filters are invalid."


def team_by_slug(slug: str, *, message: str) -> Team:
    team = teams.team_by_slug(slug)
    if team is None:
        raise RegistryInvalid(message, fields={"team": [f"No team “{slug}”."]})
    return team


def snapshots_by_id(actor, ids: list[int]) -> dict[int, DatasetSnapshot]:
    """The snapshots among ``ids`` that the actor may see (one query)."""
    if not ids:
        return {}
    return {
        snapshot.pk: snapshot
        for snapshot in selectors.dataset_list(actor=actor).filter(pk__in=ids)
    }


def resolve_run_inputs(
    actor, inputs: list[dict[str, Any]], *, where: str, message: str
) -> list[tuple[DatasetSnapshot, str]]:
    """``[{"snapshot": id, "role": …}]`` to ``[(snapshot, role)]``; an id the
    actor may not see is a field error, as if it did not exist."""
    found = snapshots_by_id(actor, [entry["snapshot"] for entry in inputs])
    missing = {
        f"{where}[{index}].snapshot": [f"No dataset snapshot {entry['snapshot']}."]
        for index, entry in enumerate(inputs)
        if entry["snapshot"] not in found
    }
    if missing:
        raise RegistryInvalid(message, fields=missing)
    return [(found[entry["snapshot"]], entry["role"]) for entry in inputs]


# --- Schema helpers ---------------------------------------------------------------

MODEL_NAME = OpenApiParameter(
    "name", str, OpenApiParameter.PATH, description="The model's name (a slug)."
)
VERSION_ID = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="The model version's id."
)


BAD_REQUEST = error_response("Invalid fields; nothing was written.")
NOT_FOUND = error_response("No such object, or one you may not see.")
FORBIDDEN = error_response("You may see this model but not do this with it.")
CONFLICT = error_response("Conflicts with a record that exists already.")


NOT_FOUND_EXAMPLE = error_example(
    "Unknown or invisible model",
    404,
    {"code": "model_not_found", "message": "No such model.", "fields": {}},
)
VERSION_NOT_FOUND_EXAMPLE = error_example(
    "Unknown or invisible version",
    404,
    {"code": "version_not_found", "message": "No such model version.", "fields": {}},
)


# --- Answers on the hot reads --------------------------------------------------------
# ModelOutput and VersionOutput (models_registry.serializers) document these
# answers in the schema; the reads clients repeat most build the same JSON
# directly, without DRF's field objects per value (a test keeps them equal).


def _moment(value: datetime | None, zone) -> str | None:
    """As DRF's DateTimeField writes it: ISO 8601 in the current time zone
    (``zone``, looked up once per answer: the lookup costs more than the
    conversion), UTC as Z."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _number(value, kind):
    return None if value is None else kind(value)


def model_output(model, zone=None) -> dict[str, Any]:
    """ModelOutput's answer (``zone``: the current time zone, when the caller
    has it already)."""
    zone = zone or timezone.get_current_timezone()
    return {
        "name": model.name,
        "kind": model.kind,
        "title": model.title,
        "description": model.description,
        "team": model.team.slug,
        "domain": model.domain,
        "risk_class": model.risk_class,
        "regulatory_tier": model.regulatory_tier,
        "serving_mode": model.serving_mode,
        "offline_success_metrics": model.offline_success_metrics,
        "online_success_metrics": model.online_success_metrics,
        "latency_slo_ms": _number(model.latency_slo_ms, int),
        "latency_slo_percentile": int(model.latency_slo_percentile),
        "reproducibility_tolerance": model.reproducibility_tolerance,
        "low_confidence_threshold": _number(model.low_confidence_threshold, float),
        "fairness_attributes": [str(item) for item in model.fairness_attributes],
        "fairness_max_disparity": float(model.fairness_max_disparity),
        "latest_version": int(model.last_version_number),
        "created_at": _moment(model.created_at, zone),
        "updated_at": _moment(model.updated_at, zone),
    }


def version_output(version, zone=None) -> dict[str, Any]:
    """VersionOutput's answer (``zone`` as for ``model_output``)."""
    zone = zone or timezone.get_current_timezone()
    artifact, run = version.artifact, version.training_run
    return {
        "id": version.pk,
        "model": version.model.name,
        "version": int(version.version),
        "semantic_version": version.semantic_version,
        "status": version.status,
        "description": version.description,
        "tags": {str(key): str(value) for key, value in version.tags.items()},
        "artifact": {
            "id": artifact.pk,
            "uri": artifact.uri,
            "sha256": artifact.sha256,
            "size_bytes": int(artifact.size_bytes),
            "format": artifact.format,
            "preprocessing_code_version": artifact.preprocessing_code_version,
            "feature_spec": artifact.feature_spec,
        },
        "training_run": None
        if run is None
        else {"id": run.pk, "external_run_id": run.external_run_id},
        "registered_by": version.registered_by.username,
        "production_approved_at": _moment(version.production_approved_at, zone),
        "is_card_frozen": version.production_approved_at is not None,
        "created_at": _moment(version.created_at, zone),
        "updated_at": _moment(version.updated_at, zone),
    }


def page_of(view: ApiView, read, render) -> Any:
    """The paginated answer of ``view`` (the paginator's ``count``, ``next``,
    ``previous`` and ``results``, and its 400s for a bad ``limit`` or
    ``offset``) with the page and its count from ``read(offset=, limit=)``
    (a ``page_selectors`` read: one query) and each answer built by
    ``render`` (model_output, version_output) rather than a serializer."""
    paginator, request = view.paginator, view.request
    limit = paginator.get_limit(request)
    offset = paginator.get_offset(request)
    page = read(offset=offset, limit=limit)
    # What LimitOffsetPagination.paginate_queryset keeps for its answer.
    paginator.request, paginator.limit = request, limit
    paginator.offset, paginator.count = offset, page.count
    paginator.display_page_controls = (
        page.count > limit and paginator.template is not None
    )
    zone = timezone.get_current_timezone()
    return view.get_paginated_response([render(item, zone) for item in page.items])
