"""Lineage reports for scripts (mounted under /api/v1/reports/): the same
documents as the report pages' JSON, PDF and CSV downloads, with an API token.

Whoever may see the model may export its report (auditors see every model);
everyone else gets 404, as on the pages. Every export is a ``report.exported``
audit event. A report too large to build within a request answers 409: start
a background export from the report page instead.
"""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation

from kernel.api import ApiView, error_response
from kernel.errors import ServiceError
from models_registry import selectors
from portal.reports.services import report_export, report_is_large

API_FORMATS = ("json", "pdf", "csv")


class ReportTooLarge(ServiceError):
    code = "report_too_large"
    status_code = 409


class ReportQuery(serializers.Serializer):
    format = serializers.ChoiceField(choices=API_FORMATS, default="json")


_FORMAT = OpenApiParameter(
    "format",
    str,
    enum=list(API_FORMATS),
    description="`json` (default; its JSON Schema is /reports/schema.json), "
    "`pdf`, or `csv` (a zip of CSV tables).",
)
_RESPONSES = {
    (200, "application/json"): OpenApiResponse(
        OpenApiTypes.OBJECT, description="The report (format=json)."
    ),
    (200, "application/pdf"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The report (format=pdf)."
    ),
    (200, "application/zip"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The report's tables (format=csv)."
    ),
    404: error_response("No such model or version, or not one you may see."),
    409: error_response(
        "Too large to build within a request: start a background export from "
        "the report page."
    ),
}


class _FormatIsOurs(DefaultContentNegotiation):
    """``?format=`` names the report's format here (as on the report pages),
    not DRF's renderer: errors are always JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _ReportView(ApiView):
    content_negotiation_class = _FormatIsOurs

    def _answer(self, request, name: str, number: int | None):
        export_format = self.parse_query(ReportQuery)["format"]
        model = selectors.model_get(actor=request.user, name=name)
        version = (
            selectors.version_get_by_number(
                actor=request.user, model_name=name, number=number
            )
            if number is not None
            else None
        )
        if report_is_large(
            actor=request.user,
            model=model,
            version=version,
            export_format=export_format,
        ):
            raise ReportTooLarge(
                "The report is too large to build within a request: start a "
                "background export from the report page."
            )
        rendered = report_export(
            actor=request.user,
            model=model,
            version=version,
            export_format=export_format,
        )
        response = HttpResponse(rendered.content, content_type=rendered.content_type)
        response["Content-Disposition"] = f'attachment; filename="{rendered.filename}"'
        response["X-Content-SHA256"] = rendered.sha256
        return response


class ModelReport(_ReportView):
    @extend_schema(
        operation_id="reports_model_retrieve",
        summary="A model's lineage report",
        description=(
            "Everything recorded about the model and its versions, ending with "
            "the audit chain's verification; recorded in the audit log with the "
            "sha256 of what was handed out (also in `X-Content-SHA256`)."
        ),
        parameters=[_FORMAT],
        responses=_RESPONSES,
        tags=["reports"],
    )
    def get(self, request, name: str):
        return self._answer(request, name, None)


class VersionReport(_ReportView):
    @extend_schema(
        operation_id="reports_version_retrieve",
        summary="One version's lineage report",
        description="As the model's report, for one version.",
        parameters=[_FORMAT],
        responses=_RESPONSES,
        tags=["reports"],
    )
    def get(self, request, name: str, number: int):
        return self._answer(request, name, number)
