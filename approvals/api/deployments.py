"""Deployments, one-click rollback, and "what should be live" for serving
systems."""

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.response import Response

from approvals import access as approvals_access
from approvals import selectors, services
from approvals.api import examples
from approvals.api.common import (
    BAD_REQUEST,
    DEPLOYMENT_ID,
    FORBIDDEN,
    NOT_FOUND,
    ApprovalsView,
)
from approvals.serializers import (
    DeploymentFilters,
    DeploymentOutput,
    LiveOutput,
    LiveQuery,
    RollbackInput,
    RollbackOutput,
)
from kernel.api import error_example, error_response, not_found_example

DEPLOYMENT_NOT_FOUND = not_found_example("deployment_not_found", "No such deployment.")


class DeploymentList(ApprovalsView):
    @extend_schema(
        operation_id="deployments_list",
        tags=["deployments"],
        summary="List deployments",
        description="Deployments of the models you may see, newest first: live "
        "ones and the history (superseded, rolled back), each with its "
        "rollback target.",
        parameters=[DeploymentFilters],
        responses={200: DeploymentOutput(many=True), 400: BAD_REQUEST},
        examples=[
            OpenApiExample(
                "A page of deployments",
                value=examples.DEPLOYMENT,
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request):
        filters = self.parse_query(DeploymentFilters)
        deployments = selectors.deployment_list(actor=request.user)
        if filters.get("model"):
            deployments = deployments.filter(model__name=filters["model"])
        if filters.get("environment"):
            deployments = deployments.filter(environment__name=filters["environment"])
        if filters.get("status"):
            deployments = deployments.filter(status=filters["status"])
        return self.paginated(deployments, DeploymentOutput)


class DeploymentDetail(ApprovalsView):
    @extend_schema(
        operation_id="deployments_retrieve",
        tags=["deployments"],
        summary="Read a deployment",
        description="With its rollback target: the deployment it replaced, "
        "where a rollback goes back to (null when it replaced nothing).",
        parameters=[DEPLOYMENT_ID],
        responses={200: DeploymentOutput, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A live deployment",
                value=examples.DEPLOYMENT,
                response_only=True,
                status_codes=["200"],
            ),
            DEPLOYMENT_NOT_FOUND,
        ],
    )
    def get(self, request, id):
        deployment = selectors.deployment_get(actor=request.user, id=id)
        return Response(DeploymentOutput(deployment).data)


class DeploymentRollback(ApprovalsView):
    def check_write(self, request, **kwargs):
        # Permission first: 404 for a deployment the actor may not see, 403 for
        # a model they may not roll back, before the body is read.
        super().check_write(request, **kwargs)
        target = selectors.deployment_get(actor=request.user, id=kwargs["id"])
        if refusal := approvals_access.roll_back_refusal(request.user, target.model):
            raise refusal

    @extend_schema(
        operation_id="deployments_rollback",
        tags=["deployments"],
        summary="Roll a deployment back",
        description="One step, no new approval (it restores what was already "
        "approved), audited as an emergency action. Needs the rollback "
        "permission on the model (the owning team; risk officers who review it). "
        "Atomic: the deployment becomes rolled back and its rollback target "
        "becomes live again, or nothing changes. 409 `no_rollback_target` when "
        "it replaced nothing, 409 `deployment_not_active` when it is not live.",
        parameters=[DEPLOYMENT_ID],
        request=RollbackInput,
        responses={
            200: RollbackOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: error_response("No rollback target, or the deployment is not live."),
        },
        examples=[
            OpenApiExample(
                "A reason", value=examples.ROLLBACK_INPUT, request_only=True
            ),
            OpenApiExample(
                "Rolled back",
                value=examples.ROLLBACK,
                response_only=True,
                status_codes=["200"],
            ),
            error_example(
                "No reason",
                400,
                {
                    "code": "invalid",
                    "message": "Nothing was rolled back.",
                    "fields": {"reason": ["Say why you roll back."]},
                },
            ),
            error_example(
                "Nothing to go back to",
                409,
                {
                    "code": "no_rollback_target",
                    "message": "Deployment #51 replaced nothing: there is no "
                    "earlier deployment to go back to. Deploy another version "
                    "instead.",
                    "fields": {},
                },
            ),
            DEPLOYMENT_NOT_FOUND,
        ],
    )
    def post(self, request, id):
        actor = request.user
        data = self.parse_body(RollbackInput, message="Nothing was rolled back.")
        rolled_back, restored = services.deployment_rollback(
            actor=actor, deployment_id=id, reason=data["reason"]
        )
        ids = [rolled_back.pk] + ([restored.pk] if restored else [])
        loaded = selectors.deployment_list(actor=actor).in_bulk(ids)
        body = {
            "rolled_back": loaded[rolled_back.pk],
            "restored": loaded[restored.pk] if restored else None,
        }
        return Response(RollbackOutput(body).data)


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header names the current ETag (weak or not)."""
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in candidates or any(
        tag.removeprefix("W/") == etag for tag in candidates
    )


class LiveDeployments(ApprovalsView):
    @extend_schema(
        operation_id="models_deployments_live",
        tags=["deployments"],
        summary="What should be live",
        description="The active artifacts of a model in an environment (URI, "
        "sha256, strategy, traffic share), for serving systems and CD pipelines "
        "to poll cheaply: the response carries an `ETag`; send it back in "
        "`If-None-Match` and, while nothing changed, the answer is 304 with no "
        "body. With `?at=<ISO-8601 timestamp>` it answers what was live at "
        "that moment (the history is never overwritten).",
        parameters=[
            OpenApiParameter(
                "name", str, OpenApiParameter.PATH, description="The model's name."
            ),
            OpenApiParameter(
                "environment",
                str,
                OpenApiParameter.PATH,
                description="The environment's name, e.g. production.",
            ),
            LiveQuery,
            OpenApiParameter(
                "If-None-Match",
                str,
                OpenApiParameter.HEADER,
                description="The ETag of an earlier answer.",
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                LiveOutput,
                description="The live artifacts; the ETag header is set.",
            ),
            # No body, so no media type (a `null` schema makes the document
            # invalid OpenAPI).
            304: OpenApiResponse(description="Unchanged since the ETag sent."),
            400: BAD_REQUEST,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "A full deployment and a canary",
                value=examples.LIVE,
                response_only=True,
                status_codes=["200"],
            ),
            error_example(
                "A malformed timestamp",
                400,
                {
                    "code": "invalid",
                    "message": "The query is invalid.",
                    "fields": {
                        "at": [
                            "Datetime has wrong format. Use one of these formats "
                            "instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                        ]
                    },
                },
            ),
            not_found_example("model_not_found", "No such model."),
        ],
    )
    def get(self, request, name, environment):
        at = self.parse_query(LiveQuery).get("at")
        model, env, live, etag = selectors.live_at(
            actor=request.user, model_name=name, environment_name=environment, at=at
        )
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if _matches(request.headers.get("If-None-Match", ""), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers)
        body = {
            "model": model,
            "environment": env,
            "at": at,
            "etag": etag,
            "deployments": live,
        }
        return Response(LiveOutput(body).data, headers=headers)
