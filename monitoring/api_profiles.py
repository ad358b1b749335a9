"""The monitoring API for window profiles built by clients: the spec a version's
profiles are made on, and pushing profile documents (docs/profiles.md). Thin:
parse, call a service, render."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from gatehouse_client.profile import BINARY_MEDIA_TYPE
from rest_framework import serializers
from rest_framework.response import Response

from kernel.api import error_response
from monitoring.api import (
    BAD_REQUEST,
    ENVIRONMENT,
    FORBIDDEN,
    MODEL,
    NOT_FOUND,
    PUSH_RESPONSES,
    MonitoringApiView,
    accepted_response,
)
from monitoring.api import request_body as _request_body
from monitoring.services.profiles import profile_spec_get, profiles_receive

UNSUPPORTED = error_response(
    f"Send application/json or {BINARY_MEDIA_TYPE}; nothing was stored."
)
NO_REFERENCE = error_response(
    "The version has no reference yet (no bins to profile on), or the batch id "
    "was used for other content."
)


class ProfileSpecQuery(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The version whose predictions are profiled (default: the one "
        "live in the environment).",
    )


class ProfileSpecDetail(MonitoringApiView):
    @extend_schema(
        operation_id="monitoring_profile_spec_retrieve",
        tags=["monitoring"],
        summary="The spec window profiles are made on",
        description="What a client (`gatehouse-client`) profiles a version's "
        "predictions on: the features of its feature spec with the active "
        "reference's numeric bins and categorical vocabularies, the score and "
        "latency bins, the task and decision threshold that label outcomes are "
        "counted with, and the fairness attributes. For those who may push "
        "monitoring data (scope monitoring:push). 409 when the version has no "
        "reference yet.",
        parameters=[MODEL, ENVIRONMENT, ProfileSpecQuery],
        responses={
            200: OpenApiTypes.OBJECT,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: NO_REFERENCE,
        },
    )
    def get(self, request, name: str, environment: str):
        query = self.parse_query(ProfileSpecQuery)
        spec = profile_spec_get(
            actor=request.user,
            model_name=name,
            environment_name=environment,
            version=query.get("version"),
        )
        return Response(spec.to_dict())


PROFILES_EXAMPLE = {
    "format": "gatehouse.profiles",
    "format_version": 1,
    "batch_id": "card-scoring-2026-01-31",
    "version": 3,
    "reference": 12,
    "windows": [
        {
            "start": "2026-01-31T10:00:00Z",
            "rows": 2,
            "features": {
                "region": {
                    "kind": "categorical",
                    "version": 2,
                    "categories": ["north", "south"],
                    "counts": [1, 1],
                    "other": 0,
                    "missing": 0,
                    "tail_buckets": 256,
                    "tail": [],
                }
            },
        }
    ],
}


class ProfileIngest(MonitoringApiView):
    @extend_schema(
        operation_id="monitoring_profiles_push",
        tags=["monitoring"],
        summary="Push window profiles",
        description="Window profiles built where the data lives "
        "(`gatehouse_client.profile`), one per hour, on the bins of the spec "
        "(`profile-spec`). Checked completely against the version's active "
        "reference, stored durably and answered 202 with the batch's status URL; "
        "a worker merges the profiles into the same hourly windows as rows, and "
        "every check runs on them unchanged. The same batch id again answers 200 "
        "and adds nothing; the same id with other content answers 409. Bodies: "
        f"JSON, or `{BINARY_MEDIA_TYPE}` (the same JSON zstd-compressed in a "
        "small frame; docs/profiles.md). A wrong format version, bins or "
        "vocabularies other than the reference's, negative counts, NaN moments "
        "or features outside the spec answer 400 naming each problem.",
        parameters=[MODEL, ENVIRONMENT],
        request={
            "application/json": OpenApiTypes.OBJECT,
            BINARY_MEDIA_TYPE: OpenApiTypes.BINARY,
        },
        responses={**PUSH_RESPONSES, 415: UNSUPPORTED},
        examples=[
            OpenApiExample("Profiles", value=PROFILES_EXAMPLE, request_only=True),
        ],
    )
    def post(self, request, name: str, environment: str):
        received = profiles_receive(
            actor=request.user,
            model_name=name,
            environment_name=environment,
            body=_request_body(request),
            content_type=request.META.get("CONTENT_TYPE", ""),
        )
        return accepted_response(received)
