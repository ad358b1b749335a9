"""The auditor's downloads for scripts (mounted under /api/v1/audit/): the same
files as the checkpoints and audit log pages, with an API token, so that a
quarterly export can run unattended. Each download is recorded in the audit
log before its first byte, exactly as in the browser (``audit_export_record``).

People without the audit export permission get 404, as on the pages; a bad
query is a 400 with field errors and records nothing.
"""

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import api_view

from audit.api import HIDDEN, valid_query
from audit.exports import checkpoint_json_chunks, csv_chunks, jsonl_event_chunks
from audit.forms import AuditEventFilterForm, CheckpointRangeForm
from audit.selectors import (
    EXPORT_PERMISSION,
    VIEW_PERMISSION,
    audit_access_check,
    audit_checkpoint_export_rows,
    audit_checkpoint_find,
    audit_event_export_rows,
    audit_event_range_rows,
)
from audit.services import audit_export_record
from audit.signing import AuditSigningKeyUnavailable, public_key_pem, signing_key
from kernel.api import error_response
from kernel.errors import NotFound


class PublicKeyUnavailable(NotFound):
    code = "audit_signing_key_unavailable"


def _check(user) -> None:
    audit_access_check(actor=user, permission=VIEW_PERMISSION)
    audit_access_check(actor=user, permission=EXPORT_PERMISSION)


def _download(chunks, *, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


_FILTERS = [
    OpenApiParameter("actor", str, description="Username, exactly as recorded."),
    OpenApiParameter(
        "action", str, description="Exact, or a prefix ending in a dot: `token.`."
    ),
    OpenApiParameter("target_type", str, description="e.g. `auth.user`."),
    OpenApiParameter("target_id", str),
    OpenApiParameter("model", str, description="The registered model's slug."),
    OpenApiParameter(
        "date_from", str, description="UTC, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`."
    ),
    OpenApiParameter(
        "date_to", str, description="UTC, inclusive; a bare date is the whole day."
    ),
]


@extend_schema(
    operation_id="audit_events_export_csv",
    summary="Export audit events (CSV)",
    description=(
        "Every event matching the filters, oldest first, up to the chain's head "
        "when the export starts (the export's own `audit.exported` event, which "
        "records the filters and that head, comes after). Spreadsheet formulas "
        "in text cells are neutralised with a leading apostrophe. Auditors and "
        "platform admins only (others get 404)."
    ),
    parameters=_FILTERS,
    responses={
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR, description="The CSV file, header line first."
        ),
        404: HIDDEN,
    },
    tags=["audit"],
)
@api_view(["GET"])
def event_export_csv(request):
    _check(request.user)
    form = AuditEventFilterForm(request.query_params)
    valid_query(form)
    filters = form.filters()
    head = audit_export_record(
        actor=request.user,
        export_format="csv",
        details={"filters": filters.as_payload(), "via": "api"},
    )
    rows = audit_event_export_rows(actor=request.user, filters=filters, up_to=head)
    return _download(
        csv_chunks(rows),
        content_type="text/csv; charset=utf-8",
        filename=f"audit-events-to-{head}.csv",
    )


@extend_schema(
    operation_id="audit_checkpoints_export",
    summary="Export the signed checkpoints (JSON)",
    description=(
        "Every signed checkpoint, in the format `scripts/verify_audit_export.py` "
        "reads (`gatehouse-audit-checkpoints/1`; docs/audit-checkpoints.md)."
    ),
    responses={
        (200, "application/json"): OpenApiResponse(
            OpenApiTypes.OBJECT,
            description="`{format, head_sequence_at_export, checkpoints: [...]}`",
        ),
        404: HIDDEN,
    },
    tags=["audit"],
)
@api_view(["GET"])
def checkpoint_export(request):
    _check(request.user)
    head = audit_export_record(
        actor=request.user, export_format="checkpoints", details={"via": "api"}
    )
    rows = audit_checkpoint_export_rows(actor=request.user)
    return _download(
        checkpoint_json_chunks(rows, head),
        content_type="application/json",
        filename="audit-checkpoints.json",
    )


@extend_schema(
    operation_id="audit_events_export_range",
    summary="Export the events between two checkpoints (JSON lines)",
    description=(
        "Events `from_sequence+1 … to_sequence`, one JSON object per line, with "
        "the columns the outside verifier hashes. Both ends must be signed "
        "checkpoints (`from_sequence` 0: the start of the chain)."
    ),
    parameters=[
        OpenApiParameter("from_sequence", int, required=True),
        OpenApiParameter("to_sequence", int, required=True),
    ],
    responses={
        (200, "application/x-ndjson"): OpenApiResponse(
            OpenApiTypes.STR, description="One event per line."
        ),
        404: HIDDEN,
    },
    tags=["audit"],
)
@api_view(["GET"])
def event_range_export(request):
    _check(request.user)
    cleaned = valid_query(
        CheckpointRangeForm(
            request.query_params,
            find_checkpoint=lambda sequence: audit_checkpoint_find(
                actor=request.user, sequence=sequence
            ),
        )
    )
    start, end = cleaned["from_sequence"], cleaned["to_sequence"]
    audit_export_record(
        actor=request.user,
        export_format="event-range",
        details={"from_sequence": start, "to_sequence": end, "via": "api"},
    )
    rows = audit_event_range_rows(
        actor=request.user, from_sequence=start, to_sequence=end
    )
    return _download(
        jsonl_event_chunks(rows),
        content_type="application/x-ndjson; charset=utf-8",
        filename=f"audit-events-{start}-{end}.jsonl",
    )


@extend_schema(
    operation_id="audit_public_key",
    summary="The checkpoints' public key (PEM)",
    description="The Ed25519 public key that verifies the checkpoints' signatures.",
    responses={
        (200, "application/x-pem-file"): OpenApiResponse(OpenApiTypes.STR),
        404: error_response(
            "Not an auditor or platform admin, or no signing key is configured "
            "(code `audit_signing_key_unavailable`)."
        ),
    },
    tags=["audit"],
)
@api_view(["GET"])
def public_key(request):
    audit_access_check(actor=request.user, permission=VIEW_PERMISSION)
    try:
        key = signing_key().public_key()
    except AuditSigningKeyUnavailable as error:
        raise PublicKeyUnavailable(error.message) from error
    response = HttpResponse(public_key_pem(key), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="audit-public-key.pem"'
    return response
