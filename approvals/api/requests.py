"""Deployment requests: submit, list, the reviewer's queue, detail, decisions,
cancellation."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from approvals import access as approvals_access
from approvals import selectors, services
from approvals.api import examples
from approvals.api.common import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    REQUEST_ID,
    ApprovalsView,
)
from approvals.errors import ApprovalInvalid, EnvironmentNotFound
from approvals.serializers import (
    CancelInput,
    DecisionInput,
    DecisionResultOutput,
    QueueItemOutput,
    RequestDetailOutput,
    RequestFilters,
    RequestOutput,
    RequestSubmitInput,
)
from kernel.api import error_example, error_response, not_found_example
from kernel.errors import PermissionDenied
from models_registry import selectors as registry
from models_registry.errors import VersionNotFound

REQUEST_NOT_FOUND = not_found_example("request_not_found", "No such request.")


def _request_response(actor, request_id: int, status_code=status.HTTP_200_OK):
    request = selectors.request_get(actor=actor, id=request_id)
    return Response(RequestOutput(request).data, status=status_code)


class RequestListSubmit(ApprovalsView):
    @extend_schema(
        operation_id="requests_list",
        tags=["deployment requests"],
        summary="List deployment requests",
        description="Requests for the models you may see, newest first.",
        parameters=[RequestFilters],
        responses={200: RequestOutput(many=True), 400: BAD_REQUEST},
        examples=[
            OpenApiExample(
                "A page of requests",
                value=examples.REQUEST,
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request):
        filters = self.parse_query(RequestFilters)
        return self.paginated(
            selectors.request_list(actor=request.user, filters=filters), RequestOutput
        )

    @extend_schema(
        operation_id="requests_create",
        tags=["deployment requests"],
        summary="Request a deployment",
        description="The team that owns the model asks for one of its versions to "
        "go to an environment with a strategy. The policy for the model's risk "
        "class and the environment is copied onto the request and every gate is "
        "evaluated now and stored with its reason (`gates`); a failing gate does "
        "not stop the submission but blocks the final approval. A model you may "
        "not see answers 404.",
        request=RequestSubmitInput,
        responses={
            201: RequestOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: error_response(
                "No approval policy covers this risk class and environment."
            ),
        },
        examples=[
            OpenApiExample(
                "A canary in production",
                value=examples.REQUEST_SUBMIT,
                request_only=True,
            ),
            OpenApiExample(
                "Submitted",
                value=examples.REQUEST,
                response_only=True,
                status_codes=["201"],
            ),
            error_example(
                "Traffic out of range",
                400,
                {
                    "code": "invalid",
                    "message": "The request was not submitted.",
                    "fields": {
                        "traffic_percent": [
                            "A canary takes 1 to 50 percent of traffic."
                        ]
                    },
                },
            ),
            not_found_example("model_not_found", "No such model."),
        ],
    )
    def post(self, request):
        actor = request.user
        message = "The request was not submitted."
        data = self.parse_body(RequestSubmitInput, message=message)
        model = registry.model_get(actor=actor, name=data.pop("model"))
        errors: dict[str, list[str]] = {}
        version = environment = None
        try:
            version = registry.version_get_by_number(
                actor=actor, model_name=model.name, number=data["version"]
            )
        except VersionNotFound:
            errors["version"] = [f"“{model.name}” has no version {data['version']}."]
        try:
            environment = selectors.environment_get(name=data["environment"])
        except EnvironmentNotFound as missing:
            errors["environment"] = [missing.message]
        if errors:
            raise ApprovalInvalid(message, fields=errors)
        submitted = services.deployment_request_submit(
            actor=actor,
            version=version,
            environment=environment,
            strategy=data["strategy"],
            justification=data["justification"],
            kind=data["kind"],
            traffic_percent=data.get("traffic_percent"),
        )
        return _request_response(actor, submitted.pk, status.HTTP_201_CREATED)


class RequestQueue(ApprovalsView):
    @extend_schema(
        operation_id="requests_queue",
        tags=["deployment requests"],
        summary="The requests I may decide",
        description="Pending, unexpired requests for models you review that you "
        "did not ask for, did not build and have not decided yet; oldest first, "
        "with their age, approvals so far and failing gates. Empty for people "
        "who are neither reviewers nor risk officers.",
        responses={200: QueueItemOutput(many=True)},
        examples=[
            OpenApiExample(
                "One request waiting",
                value=examples.QUEUE_ITEM,
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request):
        return self.paginated(
            selectors.request_queue(actor=request.user), QueueItemOutput
        )


class RequestDetail(ApprovalsView):
    @extend_schema(
        operation_id="requests_retrieve",
        tags=["deployment requests"],
        summary="Read a request with what a reviewer needs",
        description="The request with its stored gates and policy, the decisions "
        "so far, the latest test metrics side by side with the live version's "
        "and their deltas, the version's validation reports, and whether you "
        "may decide or cancel it.",
        parameters=[REQUEST_ID],
        responses={200: RequestDetailOutput, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A request with one approval",
                value=examples.REQUEST_DETAIL,
                response_only=True,
                status_codes=["200"],
            ),
            REQUEST_NOT_FOUND,
        ],
    )
    def get(self, request, id):
        detail = selectors.request_detail(actor=request.user, id=id)
        return Response(RequestDetailOutput(detail).data)


class RequestDecisions(ApprovalsView):
    def check_write(self, request, **kwargs):
        # Permission first: 404 for a request the actor may not see, 403 for
        # one they may not decide, before the body is read (the service asks
        # the whole rule again under its locks).
        super().check_write(request, **kwargs)
        target = selectors.request_get(actor=request.user, id=kwargs["id"])
        refusal = approvals_access.decide_refusal(request.user, target, decisions=[])
        if isinstance(refusal, PermissionDenied):
            raise refusal

    @extend_schema(
        operation_id="requests_decide",
        tags=["deployment requests"],
        summary="Approve, reject or request changes",
        description="Reviewers and risk officers assigned to the model decide; "
        "the requester and the version's author cannot (403 "
        "`separation_of_duties`) and each person counts once (409 "
        "`already_decided`). A rejection or a change request needs a comment. "
        "The approval that completes the policy re-checks the gates (409 "
        "`gate_failed`, with the failing gates, if one fails) and deploys in the "
        "same transaction: `executed` is true and `deployment` is the new "
        "deployment's id.",
        parameters=[REQUEST_ID],
        request=DecisionInput,
        responses={
            201: DecisionResultOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        examples=[
            OpenApiExample("Approve", value=examples.DECISION_INPUT, request_only=True),
            OpenApiExample(
                "The final approval: deployed",
                value=examples.DECISION_RESULT,
                response_only=True,
                status_codes=["201"],
            ),
            OpenApiExample(
                "One more approval needed",
                value=examples.DECISION_RESULT_PENDING,
                response_only=True,
                status_codes=["201"],
            ),
            error_example(
                "Self-approval",
                403,
                {
                    "code": "separation_of_duties",
                    "message": "Nobody decides their own request.",
                    "fields": {},
                },
            ),
            error_example(
                "A gate fails at the final approval",
                409,
                {
                    "code": "gate_failed",
                    "message": "The final approval is blocked: Independent "
                    "validation passed, no open high-severity findings: Open "
                    "findings: high: Leakage through application date.",
                    "fields": {"gates": ["independent_validation"]},
                },
            ),
            REQUEST_NOT_FOUND,
        ],
    )
    def post(self, request, id):
        actor = request.user
        data = self.parse_body(DecisionInput, message="The decision was not recorded.")
        decision, deployment = services.decision_record(
            actor=actor,
            request_id=id,
            outcome=data["outcome"],
            comment=data.get("comment", ""),
        )
        body = {
            "decision": decision,
            "executed": deployment is not None,
            "deployment": deployment,
        }
        return Response(DecisionResultOutput(body).data, status=status.HTTP_201_CREATED)


class RequestCancel(ApprovalsView):
    def check_write(self, request, **kwargs):
        super().check_write(request, **kwargs)
        target = selectors.request_get(actor=request.user, id=kwargs["id"])
        if refusal := approvals_access.cancel_refusal(request.user, target):
            raise refusal

    @extend_schema(
        operation_id="requests_cancel",
        tags=["deployment requests"],
        summary="Cancel a pending request",
        description="The requester (or a platform admin) withdraws a pending "
        "request; a closed one answers 409 `request_closed`.",
        parameters=[REQUEST_ID],
        request=CancelInput,
        responses={
            200: RequestOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        examples=[
            OpenApiExample(
                "With a reason",
                value={"reason": "Superseded by v5."},
                request_only=True,
            ),
            OpenApiExample(
                "Cancelled",
                value={
                    **examples.REQUEST,
                    "status": "cancelled",
                    "closed_at": examples.LATER,
                    "closing_comment": "Superseded by v5.",
                },
                response_only=True,
                status_codes=["200"],
            ),
            error_example(
                "Already decided",
                409,
                {
                    "code": "request_closed",
                    "message": "Request #12 is executed: it takes no decision.",
                    "fields": {},
                },
            ),
            REQUEST_NOT_FOUND,
        ],
    )
    def post(self, request, id):
        actor = request.user
        data = self.parse_body(CancelInput, message="The request was not cancelled.")
        services.deployment_request_cancel(
            actor=actor, request_id=id, reason=data.get("reason", "")
        )
        return _request_response(actor, id)
