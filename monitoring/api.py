"""The monitoring API: pushing batches and reference samples, reading batch
status, windows and alerts, acknowledging and resolving alerts, and the
per-model configuration. Thin: parse, call a service or selector, render."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
)
from rest_framework import status
from rest_framework.response import Response

from kernel.api import ApiView, error_response
from kernel.guards import is_digits
from monitoring import parsing, selectors
from monitoring.errors import MonitoringInvalid
from monitoring.serializers import (
    AcknowledgedOutput,
    AlertFilters,
    AlertNoteInput,
    AlertOutput,
    AlertResolveInput,
    BatchAccepted,
    BatchJsonDoc,
    BatchOutput,
    ConfigInput,
    ConfigOutput,
    ReferenceJsonDoc,
    ReferenceOutput,
    WindowFilters,
    WindowOutput,
    batch_status_url,
)
from monitoring.services import alerts as alert_services
from monitoring.services.config import monitoring_config_set
from monitoring.services.ingestion import batch_receive, reference_upload
from monitoring.services.targets import config_for

BAD_REQUEST = error_response("Invalid fields (named); nothing was stored.")
NOT_FOUND = error_response(
    "No such model, environment or object, or one you may not see."
)
FORBIDDEN = error_response("You may see the model but not do this with it.")
TOO_LARGE = error_response("The body is larger than MONITORING_MAX_BODY_BYTES.")
CONFLICT = error_response("The state does not allow it; nothing was changed.")
# What every push route answers (row batches, LLM call batches, profiles).
PUSH_RESPONSES = {
    202: BatchAccepted,
    200: BatchAccepted,
    400: BAD_REQUEST,
    403: FORBIDDEN,
    404: NOT_FOUND,
    409: CONFLICT,
    413: TOO_LARGE,
}

MODEL = OpenApiParameter("name", str, OpenApiParameter.PATH, description="Model name.")
ENVIRONMENT = OpenApiParameter(
    "environment", str, OpenApiParameter.PATH, description="Environment name."
)
PARQUET_QUERY = [
    OpenApiParameter(
        "batch_id",
        str,
        description="Parquet bodies only: the client's batch id (JSON bodies carry "
        "it as a key).",
    ),
    OpenApiParameter(
        "version",
        int,
        description="Parquet bodies only: the version that made the predictions.",
    ),
]
PARQUET = "application/vnd.apache.parquet"


# The base of the monitoring API views: its 400 error, one wording for invalid
# bodies and queries alike. (A comment, not a docstring: drf-spectacular would
# publish a base class's docstring as the description of every operation.)
class MonitoringApiView(ApiView):
    invalid_error = MonitoringInvalid
    query_message = "The request has invalid fields."


def _content_length(request) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or ""
    return int(raw) if is_digits(raw) else None


def request_body(request) -> bytes:
    """The raw body, read from the stream up to the monitoring limit (413 past it)."""
    return parsing.read_body(
        request._request,
        content_length=_content_length(request),
        encoding=request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower(),
        limit=settings.MONITORING_MAX_BODY_BYTES,
    )


ROWS_EXAMPLE = {
    "batch_id": "scoring-2026-01-31T10",
    "records": [
        {
            "timestamp": "2026-01-31T10:00:01Z",
            "prediction_id": "a1f3",
            "income": 52000,
            "region": "north",
            "score": 0.82,
            "latency_ms": 41.5,
            "sex": "female",
        }
    ],
}
COLUMNS_EXAMPLE = {
    "batch_id": "scoring-2026-01-31T11",
    "columns": {
        "timestamp": ["2026-01-31T11:00:01Z", "2026-01-31T11:00:02Z"],
        "prediction_id": ["b7", "b8"],
        "income": [48000, None],
        "region": ["south", "north"],
        "score": [0.31, 0.77],
    },
}


class BatchIngest(MonitoringApiView):
    kind = parsing.PREDICTIONS

    def post(self, request, name: str, environment: str):
        received = batch_receive(
            actor=request.user,
            model_name=name,
            environment_name=environment,
            kind=self.kind,
            body=request_body(request),
            content_type=request.META.get("CONTENT_TYPE", ""),
            batch_id=request.query_params.get("batch_id"),
            version=request.query_params.get("version"),
        )
        return accepted_response(received)


def accepted_response(received) -> Response:
    """202 with the status URL of a new batch; 200 for a batch id sent before."""
    batch = received.batch
    url = batch_status_url(batch.pk)
    data = BatchAccepted(
        {
            "id": batch.pk,
            "batch_id": batch.batch_id,
            "kind": batch.kind,
            "status": batch.status,
            "rows": batch.row_count,
            "duplicate": not received.created,
            "status_url": url,
        }
    ).data
    code = status.HTTP_202_ACCEPTED if received.created else status.HTTP_200_OK
    return Response(data, status=code, headers={"Location": url})


def _ingest_schema(kind: str, what: str):
    return extend_schema(
        operation_id=f"monitoring_{kind}_push",
        tags=["monitoring"],
        summary=f"Push a batch of {what}",
        description=(
            f"Stores the batch of {what} durably and answers 202 with its status "
            "URL; a worker merges it into the hourly windows. The same batch id "
            "again answers 200 with the same status URL and adds nothing; the "
            "same id with other content answers 409. Bodies: JSON (`records` or "
            "`columns`, with `batch_id`) or Apache Parquet (`batch_id` in the "
            "query), optionally gzip-encoded. Columns are described in "
            "`monitoring/ingestion.py` and the README."
        ),
        parameters=[MODEL, ENVIRONMENT, *PARQUET_QUERY],
        request={"application/json": BatchJsonDoc, PARQUET: OpenApiTypes.BINARY},
        responses=PUSH_RESPONSES,
        examples=[
            OpenApiExample("Row layout", value=ROWS_EXAMPLE, request_only=True),
            OpenApiExample("Column layout", value=COLUMNS_EXAMPLE, request_only=True),
            OpenApiExample(
                "Accepted",
                value={
                    "id": 812,
                    "batch_id": "scoring-2026-01-31T10",
                    "kind": kind,
                    "status": "pending",
                    "rows": 1,
                    "duplicate": False,
                    "status_url": "/api/v1/monitoring/batches/812",
                },
                response_only=True,
                status_codes=["202"],
            ),
            OpenApiExample(
                "Refused",
                value={
                    "code": "batch_invalid",
                    "message": "The batch was refused.",
                    "fields": {
                        "income": [
                            "Rows 3, 7: missing (null or NaN), and the feature spec "
                            "says this feature is never missing (nullable: false)."
                        ]
                    },
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )


class PredictionIngest(BatchIngest):
    kind = parsing.PREDICTIONS

    @_ingest_schema(parsing.PREDICTIONS, "prediction logs")
    def post(self, request, name: str, environment: str):
        return super().post(request, name, environment)


class LabelIngest(BatchIngest):
    kind = parsing.LABELS

    @_ingest_schema(parsing.LABELS, "delayed labels (prediction_id, label)")
    def post(self, request, name: str, environment: str):
        return super().post(request, name, environment)


class MetricIngest(BatchIngest):
    kind = parsing.METRICS

    @_ingest_schema(parsing.METRICS, "business metrics (timestamp, name, value)")
    def post(self, request, name: str, environment: str):
        return super().post(request, name, environment)


class BatchDetail(MonitoringApiView):
    @extend_schema(
        operation_id="monitoring_batches_retrieve",
        tags=["monitoring"],
        summary="Read a batch's status",
        description="pending until a worker has merged it; then applied, with "
        "what it did (windows, labels matched, review items queued); failed after "
        "too many attempts, with the error.",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        responses={200: BatchOutput, 404: NOT_FOUND},
    )
    def get(self, request, id: int):
        return Response(
            BatchOutput(selectors.batch_get(actor=request.user, id=id)).data
        )


class ReferenceUpload(MonitoringApiView):
    @extend_schema(
        operation_id="monitoring_reference_upload",
        tags=["monitoring"],
        summary="Upload a reference sample of a version",
        description="A sample of the training (or other reference) data: one "
        "column per feature of the version's feature spec, and optionally "
        "`score`. Bins and vocabularies are fixed from it; windows opened from "
        "now on are profiled on them and compared with it. JSON (`records` or "
        "`columns`) or Parquet.",
        parameters=[
            MODEL,
            OpenApiParameter("number", int, OpenApiParameter.PATH),
        ],
        request={"application/json": ReferenceJsonDoc, PARQUET: OpenApiTypes.BINARY},
        responses={
            201: ReferenceOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            413: TOO_LARGE,
        },
    )
    def post(self, request, name: str, number: int):
        reference = reference_upload(
            actor=request.user,
            model_name=name,
            version_number=number,
            body=request_body(request),
            content_type=request.META.get("CONTENT_TYPE", ""),
        )
        return Response(ReferenceOutput(reference).data, status=status.HTTP_201_CREATED)


class WindowList(MonitoringApiView):
    @extend_schema(
        operation_id="monitoring_windows_list",
        tags=["monitoring"],
        summary="Hourly window summaries",
        description="Counts, latency percentiles, mean score and the checks' "
        "summary (drift scores per feature, performance, KPIs, fairness gaps) of "
        "each window of the last `hours` (default 168).",
        parameters=[MODEL, ENVIRONMENT, WindowFilters],
        responses={200: WindowOutput(many=True), 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    def get(self, request, name: str, environment: str):
        filters = self.parse_query(WindowFilters)
        windows = selectors.window_list(
            actor=request.user,
            model_name=name,
            environment_name=environment,
            version=filters.get("version"),
            hours=filters.get("hours", 24 * 7),
        )
        return self.paginated(windows, WindowOutput)


class AlertList(MonitoringApiView):
    @extend_schema(
        operation_id="monitoring_alerts_list",
        tags=["monitoring"],
        summary="List alerts",
        description="Alerts of the models you may see, newest first.",
        parameters=[AlertFilters],
        responses={200: AlertOutput(many=True), 400: BAD_REQUEST},
    )
    def get(self, request):
        filters = self.parse_query(AlertFilters)
        alerts = selectors.alert_list(actor=request.user, filters=filters)
        return self.paginated(alerts, AlertOutput)


ALERT_ID = OpenApiParameter("id", int, OpenApiParameter.PATH)


class AlertDetail(MonitoringApiView):
    @extend_schema(
        operation_id="monitoring_alerts_retrieve",
        tags=["monitoring"],
        summary="Read an alert",
        parameters=[ALERT_ID],
        responses={200: AlertOutput, 404: NOT_FOUND},
    )
    def get(self, request, id: int):
        return Response(
            AlertOutput(selectors.alert_get(actor=request.user, id=id)).data
        )


class AlertAcknowledge(MonitoringApiView):
    def check_write(self, request, **kwargs):
        # Permission first: 404 for an alert the actor may not see, before
        # the body is read.
        super().check_write(request, **kwargs)
        selectors.alert_get(actor=request.user, id=kwargs["id"])

    @extend_schema(
        operation_id="monitoring_alerts_acknowledge",
        tags=["monitoring"],
        summary="Acknowledge an open alert",
        description="On a high or critical risk model, for the checks of the "
        "retrain policy, this also opens a retrain request in your name; "
        "`retrain_problem` says why when it could not.",
        parameters=[ALERT_ID],
        request=AlertNoteInput,
        responses={
            200: AcknowledgedOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request, id: int):
        data = self.parse_body(AlertNoteInput)
        alert, problem = alert_services.alert_acknowledge(
            actor=request.user, alert_id=id, note=data.get("note", "")
        )
        alert = selectors.alert_get(actor=request.user, id=alert.pk)
        output = AcknowledgedOutput(alert, context={"retrain_problem": problem})
        return Response(output.data)


class AlertResolve(MonitoringApiView):
    def check_write(self, request, **kwargs):
        super().check_write(request, **kwargs)
        selectors.alert_get(actor=request.user, id=kwargs["id"])

    @extend_schema(
        operation_id="monitoring_alerts_resolve",
        tags=["monitoring"],
        summary="Resolve an alert",
        parameters=[ALERT_ID],
        request=AlertResolveInput,
        responses={
            200: AlertOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request, id: int):
        data = self.parse_body(AlertResolveInput)
        alert = alert_services.alert_resolve(
            actor=request.user, alert_id=id, note=data["note"]
        )
        alert = selectors.alert_get(actor=request.user, id=alert.pk)
        return Response(AlertOutput(alert).data)


class ConfigDetail(MonitoringApiView):
    def check_write(self, request, **kwargs):
        # Permission first: 404 for a model the actor may not see.
        from models_registry.selectors import model_get

        super().check_write(request, **kwargs)
        model_get(actor=request.user, name=kwargs["name"])

    @extend_schema(
        operation_id="monitoring_config_retrieve",
        tags=["monitoring"],
        summary="Read a model's monitoring configuration",
        parameters=[MODEL],
        responses={200: ConfigOutput, 404: NOT_FOUND},
    )
    def get(self, request, name: str):
        from models_registry.selectors import model_get

        model = model_get(actor=request.user, name=name)
        return Response(ConfigOutput(_effective(config_for(model))).data)

    @extend_schema(
        operation_id="monitoring_config_update",
        tags=["monitoring"],
        summary="Change a model's monitoring configuration",
        description="Fields left out keep their value. `drift` is validated as a "
        "`DriftConfig` (methods, thresholds, per-feature overrides, correction).",
        parameters=[MODEL],
        request=ConfigInput,
        responses={200: ConfigOutput, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def patch(self, request, name: str):
        data = self.parse_body(
            ConfigInput, message="The configuration was not changed."
        )
        config = monitoring_config_set(actor=request.user, model_name=name, values=data)
        return Response(ConfigOutput(_effective(config_for(config.model))).data)


def _effective(config) -> dict:
    from monitoring.llm.config import llm_config_of
    from monitoring.services.checks import drift_config_for

    return {
        "task": config.task,
        "decision_threshold": config.decision_threshold,
        "drift": drift_config_for(config).to_dict(),
        "performance_tolerance": config.performance_tolerance,
        "retrain_checks": list(config.retrain_checks),
        "llm": llm_config_of(config).to_dict(),
    }
