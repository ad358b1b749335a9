"""Independent validation reports on a version, and their findings."""

from django.db.models import Case, Prefetch, QuerySet, Value, When
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from approvals import services
from approvals.api import examples
from approvals.api.common import (
    BAD_REQUEST,
    FINDING_ID,
    FORBIDDEN,
    NOT_FOUND,
    VERSION_ID,
    ApprovalsView,
    FindingNotFound,
)
from approvals.models import Finding, Severity, ValidationReport
from approvals.serializers import (
    FindingOutput,
    FindingStatusInput,
    ValidationReportInput,
    ValidationReportOutput,
)
from kernel.api import error_example, not_found_example
from models_registry import access
from models_registry import selectors as registry

VERSION_NOT_FOUND = not_found_example("version_not_found", "No such model version.")

# Most severe first; the model's default ordering sorts severities as text.
_SEVERITY_RANK = Case(
    *(
        When(severity=severity, then=Value(rank))
        for rank, severity in enumerate(Severity.values)
    ),
    default=Value(-1),
)


def _reports_of(version) -> QuerySet:
    findings = (
        Finding.objects.select_related("owner")
        .alias(rank=_SEVERITY_RANK)
        .order_by("-rank", "pk")
    )
    return (
        ValidationReport.objects.filter(version=version)
        .select_related("validator")
        .prefetch_related(Prefetch("findings", queryset=findings))
        .order_by("-created_at", "-pk")
    )


class VersionValidations(ApprovalsView):
    @extend_schema(
        operation_id="versions_validations_list",
        tags=["validation"],
        summary="The version's validation reports",
        description="Newest first, each with its findings.",
        parameters=[VERSION_ID],
        responses={200: ValidationReportOutput(many=True), 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "One report",
                value=examples.VALIDATION_REPORT,
                response_only=True,
                status_codes=["200"],
            ),
            VERSION_NOT_FOUND,
        ],
    )
    def get(self, request, id):
        version = registry.version_get(actor=request.user, id=id)
        return self.paginated(_reports_of(version), ValidationReportOutput)

    @extend_schema(
        operation_id="versions_validations_create",
        tags=["validation"],
        summary="Record an independent validation",
        description="A validator who did not build the version (403 "
        "`separation_of_duties` otherwise) records the effective challenge: an "
        "outcome, a summary and findings (severity, title, owner by username, "
        "due date). Open high or critical findings fail the "
        "`independent_validation` gate where the policy has it.",
        parameters=[VERSION_ID],
        request=ValidationReportInput,
        responses={
            201: ValidationReportOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "With one finding",
                value=examples.VALIDATION_REPORT_INPUT,
                request_only=True,
            ),
            OpenApiExample(
                "Recorded",
                value=examples.VALIDATION_REPORT,
                response_only=True,
                status_codes=["201"],
            ),
            error_example(
                "An unknown owner",
                400,
                {
                    "code": "invalid",
                    "message": "The validation report was not recorded.",
                    "fields": {
                        "findings[0]": ["owner must be an active user's username."]
                    },
                },
            ),
            VERSION_NOT_FOUND,
        ],
    )
    def post(self, request, id):
        actor = request.user
        version = registry.version_get(actor=actor, id=id)
        data = self.parse_body(
            ValidationReportInput,
            message="The validation report was not recorded.",
        )
        report = services.validation_report_record(
            actor=actor,
            version=version,
            outcome=data["outcome"],
            summary=data["summary"],
            findings=[dict(finding) for finding in data.get("findings", [])],
        )
        return Response(
            ValidationReportOutput(_reports_of(version).get(pk=report.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class FindingStatusChange(ApprovalsView):
    @extend_schema(
        operation_id="findings_status",
        tags=["validation"],
        summary="Move a finding",
        description="Validators move a finding to any status; its owner may "
        "resolve it; only validators accept its risk.",
        parameters=[FINDING_ID],
        request=FindingStatusInput,
        responses={
            200: FindingOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "Resolved", value=examples.FINDING_STATUS_INPUT, request_only=True
            ),
            OpenApiExample(
                "The finding",
                value={**examples.FINDING, "status": "resolved"},
                response_only=True,
                status_codes=["200"],
            ),
            not_found_example("finding_not_found", "No such finding."),
        ],
    )
    def post(self, request, id):
        actor = request.user
        finding = (
            Finding.objects.select_related("report__version__model", "owner")
            .filter(pk=id)
            .first()
        )
        if finding is None or not access.has_model_permission(
            actor, finding.report.version.model, access.VIEW
        ):
            raise FindingNotFound("No such finding.")
        data = self.parse_body(
            FindingStatusInput, message="The finding was not changed."
        )
        changed = services.finding_status_change(
            actor=actor,
            finding_id=id,
            status=data["status"],
            comment=data.get("comment", ""),
        )
        return Response(FindingOutput(changed).data)
