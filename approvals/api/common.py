"""What every approvals endpoint shares: input parsing, pagination and the
documented error responses."""

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework.generics import GenericAPIView
from rest_framework.serializers import Serializer

from approvals.errors import ApprovalInvalid, FindingNotFound  # noqa: F401 (re-exported)
from models_registry.api.common import flatten_errors
from models_registry.serializers import ErrorOutput


class ApprovalsView(GenericAPIView):
    def paginated(self, items, serializer_class):
        """One page of ``items`` (a selector's queryset, or a list)."""
        page = self.paginate_queryset(items)
        return self.get_paginated_response(serializer_class(page, many=True).data)


def parse_body(
    serializer_class: type[Serializer], request, *, message: str
) -> dict[str, Any]:
    """The validated body, or a 400 with every field error at once."""
    serializer = serializer_class(data=request.data)
    if not serializer.is_valid():
        raise ApprovalInvalid(message, fields=flatten_errors(serializer.errors))
    return dict(serializer.validated_data)


def parse_query(serializer_class: type[Serializer], request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    if not serializer.is_valid():
        raise ApprovalInvalid(
            "The query is invalid.", fields=flatten_errors(serializer.errors)
        )
    return dict(serializer.validated_data)


# --- Schema helpers ---------------------------------------------------------------


def path_id(description: str) -> OpenApiParameter:
    return OpenApiParameter("id", int, OpenApiParameter.PATH, description=description)


REQUEST_ID = path_id("The deployment request's id.")
DEPLOYMENT_ID = path_id("The deployment's id.")
VERSION_ID = path_id("The model version's id.")
FINDING_ID = path_id("The finding's id.")


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOutput, description=description)


BAD_REQUEST = error("Invalid fields; nothing was changed.")
NOT_FOUND = error("No such object, or one you may not see.")
FORBIDDEN = error("You may see this but not do this with it.")
CONFLICT = error("The object's state does not allow it; nothing was changed.")


def error_example(name: str, status: int, body: dict[str, Any]) -> OpenApiExample:
    return OpenApiExample(
        name, value=body, response_only=True, status_codes=[str(status)]
    )


def not_found_example(code: str, message: str) -> OpenApiExample:
    return error_example(
        "Unknown or invisible", 404, {"code": code, "message": message, "fields": {}}
    )
