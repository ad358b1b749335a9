"""What every registry endpoint shares: the parser, input parsing, pagination and
the documented error responses."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.serializers import Serializer

from kernel.models import Team
from models_registry import selectors
from models_registry.errors import RegistryInvalid
from models_registry.models import DatasetSnapshot
from models_registry.serializers import ErrorOutput


class RegistryJSONParser(JSONParser):
    """JSON that may carry NaN and Infinity.

    Python's json module reads them; the input serializers then answer with a
    field error that names the field, instead of a bare "JSON parse error".
    """

    strict = False


class RegistryView(GenericAPIView):
    parser_classes = [RegistryJSONParser]

    def paginated(self, items, serializer_class, **context):
        """One page of ``items`` (a selector's queryset, or a list)."""
        page = self.paginate_queryset(items)
        data = serializer_class(page, many=True, context=context).data
        return self.get_paginated_response(data)


def flatten_errors(errors: Any) -> dict[str, list[str]]:
    """Turn DRF's nested errors into ``{"artifact.sha256": [...]}``, the same flat
    field names the services use, with ``[i]`` for list positions."""
    fields: dict[str, list[str]] = {}

    def add(where: str, message: Any) -> None:
        fields.setdefault(where or "non_field_errors", []).append(str(message))

    def visit(detail: Any, where: str) -> None:
        if isinstance(detail, dict):
            for key, child in detail.items():
                if isinstance(key, int):
                    name = f"{where}[{key}]"
                elif key == "non_field_errors":
                    name = where
                else:
                    name = f"{where}.{key}" if where else str(key)
                visit(child, name)
        elif isinstance(detail, list):
            if all(isinstance(item, str) for item in detail):
                for item in detail:
                    add(where, item)
            else:
                for index, child in enumerate(detail):
                    if child:
                        visit(child, f"{where}[{index}]")
        else:
            add(where, detail)

    visit(errors, "")
    return fields


def parse_body(
    serializer_class: type[Serializer], request, *, message: str, partial=False
) -> dict[str, Any]:
    """The validated body, or a 400 with every field error at once."""
    serializer = serializer_class(data=request.data, partial=partial)
    if not serializer.is_valid():
        raise RegistryInvalid(message, fields=flatten_errors(serializer.errors))
    return dict(serializer.validated_data)


def parse_query(serializer_class: type[Serializer], request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    if not serializer.is_valid():
        raise RegistryInvalid(
            "The filters are invalid.", fields=flatten_errors(serializer.errors)
        )
    return dict(serializer.validated_data)


def team_by_slug(slug: str, *, message: str) -> Team:
    team = Team.objects.filter(slug=slug).first()
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


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOutput, description=description)


BAD_REQUEST = error("Invalid fields; nothing was written.")
NOT_FOUND = error("No such object, or one you may not see.")
FORBIDDEN = error("You may see this model but not do this with it.")
CONFLICT = error("Conflicts with a record that exists already.")


def error_example(name: str, status: int, body: dict[str, Any]) -> OpenApiExample:
    return OpenApiExample(
        name, value=body, response_only=True, status_codes=[str(status)]
    )


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
