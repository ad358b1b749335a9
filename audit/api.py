"""Read-only audit API for auditors' scripts (mounted under /api/v1/audit/).

The same selectors as the pages: people without the audit permission get 404,
bad filters a 400 with field errors. The downloads (CSV, checkpoints, event
ranges) are in ``audit.api_exports``, each recorded as an audit event.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from audit.forms import AuditEventFilterForm, CheckpointListForm
from audit.selectors import (
    VIEW_PERMISSION,
    audit_access_check,
    audit_checkpoint_list,
    audit_event_get,
    audit_event_list,
)
from audit.serializers import (
    AuditCheckpointPageOutput,
    AuditEventDetailOutput,
    AuditEventPageOutput,
)
from audit.signing import AuditSigningKeyUnavailable, signing_key
from kernel.api import error_response

# The audit log does not admit it exists to people who may not read it.
HIDDEN = error_response("Not an auditor or platform admin.")


def valid_query(form):
    """The form's cleaned data, or a 400 with its field errors."""
    if not form.is_valid():
        raise ValidationError(
            {
                ("non_field_errors" if name == "__all__" else name): list(errors)
                for name, errors in form.errors.items()
            }
        )
    return form.cleaned_data


_FILTER_PARAMETERS = [
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
    OpenApiParameter("before", int, description="Events with a lower sequence."),
    OpenApiParameter("after", int, description="Events with a higher sequence."),
]


@extend_schema(
    operation_id="audit_events_list",
    summary="List audit events",
    description=(
        "Auditors and platform admins only (others get 404). Fifty events per "
        "page, newest first, paginated by keyset: follow `older_before` with "
        "`before=` and `newer_after` with `after=`."
    ),
    parameters=_FILTER_PARAMETERS,
    responses={200: AuditEventPageOutput, 404: HIDDEN},
    examples=[
        OpenApiExample(
            "A page",
            value={
                "events": [
                    {
                        "sequence": 812,
                        "timestamp": "2026-11-26T09:14:03.120431Z",
                        "actor_text": "dana",
                        "action": "token.created",
                        "target_type": "portal.apitoken",
                        "target_id": "31",
                        "target_text": "nightly CI",
                        "model": "",
                    }
                ],
                "older_before": 812,
                "newer_after": None,
            },
            response_only=True,
        )
    ],
    tags=["audit"],
)
@api_view(["GET"])
def event_list(request):
    audit_access_check(actor=request.user, permission=VIEW_PERMISSION)
    form = AuditEventFilterForm(request.query_params)
    cleaned = valid_query(form)
    page = audit_event_list(
        actor=request.user,
        filters=form.filters(),
        before=cleaned["before"],
        after=cleaned["after"],
    )
    return Response(AuditEventPageOutput(page).data)


@extend_schema(
    operation_id="audit_events_retrieve",
    summary="One audit event",
    description="The event with its payload and hashes, and its neighbours.",
    responses={
        200: AuditEventDetailOutput,
        404: error_response("No such event, or not an auditor or platform admin."),
    },
    tags=["audit"],
)
@api_view(["GET"])
def event_detail(request, sequence: int):
    detail = audit_event_get(actor=request.user, sequence=sequence)
    return Response(AuditEventDetailOutput(detail).data)


@extend_schema(
    operation_id="audit_checkpoints_list",
    summary="List signed checkpoints",
    description=(
        "Newest first, fifty per page (`before=` the `older_before` value). "
        "`signature_is_valid` is checked against the portal's current key (null "
        "when another key signed); `matches_log` compares the checkpointed hash "
        "with the event in the log."
    ),
    parameters=[OpenApiParameter("before", int)],
    responses={200: AuditCheckpointPageOutput, 404: HIDDEN},
    tags=["audit"],
)
@api_view(["GET"])
def checkpoint_list(request):
    audit_access_check(actor=request.user, permission=VIEW_PERMISSION)
    cleaned = valid_query(CheckpointListForm(request.query_params))
    try:
        public_key = signing_key().public_key()
    except AuditSigningKeyUnavailable:
        public_key = None
    page = audit_checkpoint_list(
        actor=request.user, public_key=public_key, before=cleaned["before"]
    )
    return Response(AuditCheckpointPageOutput(page).data)
