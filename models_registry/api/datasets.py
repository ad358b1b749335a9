"""Dataset snapshots, and training runs by id."""

from django.db.models import Prefetch
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.response import Response

from kernel.api import error_example, error_response
from models_registry import selectors, services
from models_registry.api import examples
from models_registry.api.common import (
    BAD_REQUEST,
    CONFLICT,
    NOT_FOUND,
    RegistryView,
    snapshots_by_id,
    team_by_slug,
)
from models_registry.errors import RegistryInvalid
from models_registry.models import DatasetSnapshot
from models_registry.serializers import (
    DatasetCreateInput,
    DatasetFilters,
    DatasetOutput,
    RunOutput,
)

SNAPSHOT_ID = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="The dataset snapshot's id."
)
RUN_ID = OpenApiParameter(
    "id", int, OpenApiParameter.PATH, description="The training run's id."
)


def _with_parents(snapshots):
    """Parent ids in one more query for the whole page."""
    return snapshots.prefetch_related(
        Prefetch("parents", queryset=DatasetSnapshot.objects.only("pk"))
    )


class DatasetListCreate(RegistryView):
    @extend_schema(
        operation_id="datasets_list",
        tags=["datasets"],
        summary="List dataset snapshots",
        description="Your teams' snapshots and those used by models you may see "
        "(all of them for auditors), newest first.",
        parameters=[DatasetFilters],
        responses={200: DatasetOutput(many=True), 400: BAD_REQUEST},
        examples=[
            OpenApiExample(
                "A page of snapshots",
                value=examples.DATASET,
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request):
        filters = self.parse_query(DatasetFilters)
        snapshots = selectors.dataset_list(actor=request.user, filters=filters)
        return self.paginated(_with_parents(snapshots), DatasetOutput)

    @extend_schema(
        operation_id="datasets_create",
        tags=["datasets"],
        summary="Record a dataset snapshot",
        description="Snapshots are immutable. Sending the same sha256 again for "
        "the team answers 200 with the snapshot recorded first; the same sha256 "
        "with another URI or row count answers 409. PII columns must be columns "
        "of the schema (unless dropped), and kept ones need a legal basis.",
        request=DatasetCreateInput,
        responses={
            201: DatasetOutput,
            200: OpenApiResponse(DatasetOutput, description="Recorded before."),
            400: BAD_REQUEST,
            403: error_response(
                "Only data scientists of the team record its datasets."
            ),
            409: CONFLICT,
        },
        examples=[
            OpenApiExample(
                "Training data", value=examples.DATASET_CREATE, request_only=True
            ),
            OpenApiExample(
                "Recorded",
                value=examples.DATASET,
                response_only=True,
                status_codes=["201"],
            ),
            error_example(
                "A PII column missing from the schema",
                400,
                {
                    "code": "invalid",
                    "message": "The dataset snapshot was not recorded.",
                    "fields": {
                        "pii_columns": ["“phone” is not a column of the schema."]
                    },
                },
            ),
            error_example(
                "Same sha256, other file",
                409,
                {
                    "code": "conflict",
                    "message": "The dataset snapshot was not recorded.",
                    "fields": {
                        "sha256": [
                            "Snapshot “loans-2019-2023” has this sha256 with a "
                            "different URI or row count."
                        ]
                    },
                },
            ),
        ],
    )
    def post(self, request):
        actor = request.user
        message = "The dataset snapshot was not recorded."
        data = self.parse_body(DatasetCreateInput, message=message)
        team = team_by_slug(data.pop("team"), message=message)
        parent_ids = data.pop("parents", [])
        found = snapshots_by_id(actor, parent_ids)
        missing = [pk for pk in parent_ids if pk not in found]
        if missing:
            raise RegistryInvalid(
                message,
                fields={"parents": [f"No dataset snapshot {pk}." for pk in missing]},
            )
        snapshot, created = services.dataset_snapshot_create(
            actor=actor,
            team=team,
            parents=[found[pk] for pk in dict.fromkeys(parent_ids)],
            **data,
        )
        return Response(
            DatasetOutput(snapshot).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class DatasetDetail(RegistryView):
    @extend_schema(
        operation_id="datasets_retrieve",
        tags=["datasets"],
        summary="Read a dataset snapshot",
        parameters=[SNAPSHOT_ID],
        responses={200: DatasetOutput, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A snapshot",
                value=examples.DATASET,
                response_only=True,
                status_codes=["200"],
            ),
            error_example(
                "Unknown or invisible snapshot",
                404,
                {
                    "code": "dataset_not_found",
                    "message": "No such dataset snapshot.",
                    "fields": {},
                },
            ),
        ],
    )
    def get(self, request, id):
        snapshot = selectors.dataset_get(actor=request.user, id=id)
        return Response(DatasetOutput(snapshot).data)


class RunDetail(RegistryView):
    @extend_schema(
        operation_id="runs_retrieve",
        tags=["runs"],
        summary="Read a training run",
        parameters=[RUN_ID],
        responses={200: RunOutput, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A run", value=examples.RUN, response_only=True, status_codes=["200"]
            ),
            error_example(
                "Unknown or invisible run",
                404,
                {
                    "code": "run_not_found",
                    "message": "No such training run.",
                    "fields": {},
                },
            ),
        ],
    )
    def get(self, request, id):
        return Response(RunOutput(selectors.run_get(actor=request.user, id=id)).data)
