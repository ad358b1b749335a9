"""What every registry endpoint shares: the parser, input parsing, pagination and
the documented error responses."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter

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
