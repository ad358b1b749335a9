"""Model versions and what hangs off one: checklist, card, evaluations,
reproduction checks."""

from functools import partial

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from kernel.api import error_example, error_response
from models_registry import page_selectors, selectors, services
from models_registry.api import examples
from models_registry.api.common import (
    BAD_REQUEST,
    FORBIDDEN,
    NOT_FOUND,
    VERSION_ID,
    VERSION_NOT_FOUND_EXAMPLE,
    RegistryView,
    page_of,
    snapshots_by_id,
    version_output,
)
from models_registry.errors import RegistryInvalid
from models_registry.fairness import metric_directions
from models_registry.models import ModelCard, ModelCardRevision, ReproductionCheck
from models_registry.serializers import (
    CardOutput,
    CardRevisionOutput,
    CardUpdateInput,
    ChecklistOutput,
    EvaluationCreateInput,
    EvaluationOutput,
    ReproductionCreateInput,
    ReproductionOutput,
    VersionFilters,
    VersionOutput,
    VersionUpdateInput,
)

_CREDENTIALS_REFUSED = (
    "Looks like it holds credentials (an AWS access key id). Secrets must never "
    "be stored in Gatehouse: remove them."
)


class VersionList(RegistryView):
    @extend_schema(
        operation_id="versions_list",
        tags=["versions"],
        summary="List versions across models",
        description="Versions of the models you may see, by model name and newest "
        "version first.",
        parameters=[VersionFilters],
        responses={200: VersionOutput(many=True), 400: BAD_REQUEST},
        examples=[
            OpenApiExample(
                "A page of versions",
                value=examples.VERSION,
                response_only=True,
                status_codes=["200"],
            ),
            error_example(
                "A malformed tag filter",
                400,
                {
                    "code": "invalid",
                    "message": "The filters are invalid.",
                    "fields": {"tag": ["Must be key=value."]},
                },
            ),
        ],
    )
    def get(self, request):
        filters = self.parse_query(VersionFilters)
        return page_of(
            self,
            partial(page_selectors.version_page, actor=request.user, filters=filters),
            version_output,
        )


class VersionDetail(RegistryView):
    @extend_schema(
        operation_id="versions_retrieve",
        tags=["versions"],
        summary="Read a version",
        parameters=[VERSION_ID],
        responses={200: VersionOutput, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A version",
                value=examples.VERSION,
                response_only=True,
                status_codes=["200"],
            ),
            VERSION_NOT_FOUND_EXAMPLE,
        ],
    )
    def get(self, request, id):
        return Response(
            version_output(page_selectors.version_one(actor=request.user, id=id))
        )

    @extend_schema(
        operation_id="versions_update",
        tags=["versions"],
        summary="Change a version's description or tags",
        description="The artifact, run and number of a version never change.",
        parameters=[VERSION_ID],
        request=VersionUpdateInput,
        responses={
            200: VersionOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample("New tags", value=examples.VERSION_PATCH, request_only=True),
            OpenApiExample(
                "Changed",
                value={**examples.VERSION, **examples.VERSION_PATCH},
                response_only=True,
                status_codes=["200"],
            ),
            error_example(
                "A credential in a tag",
                400,
                {
                    "code": "invalid",
                    "message": "The version was not changed.",
                    "fields": {"tags": [_CREDENTIALS_REFUSED]},
                },
            ),
            VERSION_NOT_FOUND_EXAMPLE,
        ],
    )
    def patch(self, request, id):
        version = selectors.version_get(actor=request.user, id=id)
        changes = self.parse_body(
            VersionUpdateInput,
            message="The version was not changed.",
            partial=True,
        )
        services.model_version_update(actor=request.user, version=version, **changes)
        return Response(
            VersionOutput(selectors.version_get(actor=request.user, id=id)).data
        )


class VersionChecklist(RegistryView):
    @extend_schema(
        operation_id="versions_checklist",
        tags=["versions"],
        summary="The version's review checklist",
        description="Computed from the records on every request, never typed in: "
        "each lifecycle exit condition with its status and the reason, and the "
        "five headings of the final review checklist.",
        parameters=[VERSION_ID],
        responses={200: ChecklistOutput, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "Reproduction missing",
                value=examples.CHECKLIST,
                response_only=True,
                status_codes=["200"],
            ),
            VERSION_NOT_FOUND_EXAMPLE,
        ],
    )
    def get(self, request, id):
        version, items, review = selectors.version_checklist(actor=request.user, id=id)
        body = {
            "version": version.pk,
            "model": version.model.name,
            "is_passed": all(item.is_passed for item in items),
            "items": items,
            "review": review,
        }
        return Response(ChecklistOutput(body).data)


def _card_of(version) -> ModelCard:
    return ModelCard.objects.select_related("updated_by", "version").get(
        version=version
    )


class VersionCard(RegistryView):
    @extend_schema(
        operation_id="versions_card_retrieve",
        tags=["cards"],
        summary="Read the model card",
        parameters=[VERSION_ID],
        responses={200: CardOutput, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A card", value=examples.CARD, response_only=True, status_codes=["200"]
            ),
            VERSION_NOT_FOUND_EXAMPLE,
        ],
    )
    def get(self, request, id):
        version = selectors.version_get(actor=request.user, id=id)
        return Response(CardOutput(_card_of(version)).data)

    @extend_schema(
        operation_id="versions_card_update",
        tags=["cards"],
        summary="Edit the model card",
        description="Only the text fields sent change; each edit that changes "
        "something is a new revision (listed in the response and at "
        "`…/card/revisions`). Frozen once the version is approved for "
        "production: 409 `card_frozen`. Send `base_revision` to refuse "
        "overwriting someone else's edit: 409 `card_revision_conflict`.",
        parameters=[VERSION_ID],
        request=CardUpdateInput,
        responses={
            200: CardOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: error_response(
                "The card is frozen, or changed since `base_revision`."
            ),
        },
        examples=[
            OpenApiExample(
                "Two fields, from revision 1",
                value={**examples.CARD_TEXT, "base_revision": 1},
                request_only=True,
            ),
            OpenApiExample(
                "Edited", value=examples.CARD, response_only=True, status_codes=["200"]
            ),
            error_example(
                "Frozen",
                409,
                {
                    "code": "card_frozen",
                    "message": "The model card is frozen: this version is approved "
                    "for production.",
                    "fields": {},
                },
            ),
            error_example(
                "A private key in the text",
                400,
                {
                    "code": "invalid",
                    "message": "The model card was not changed.",
                    "fields": {
                        "caveats": [
                            "Looks like it holds credentials (a private key block). "
                            "Secrets must never be stored in Gatehouse: remove them."
                        ]
                    },
                },
            ),
        ],
    )
    def put(self, request, id):
        version = selectors.version_get(actor=request.user, id=id)
        fields = self.parse_body(
            CardUpdateInput, message="The model card was not changed."
        )
        services.model_card_update(
            actor=request.user,
            version=version,
            expected_revision=fields.pop("base_revision", None),
            **fields,
        )
        return Response(CardOutput(_card_of(version)).data)


class VersionCardRevisionList(RegistryView):
    @extend_schema(
        operation_id="versions_card_revisions_list",
        tags=["cards"],
        summary="The card's revisions",
        description="Newest first; each holds the whole text as it was.",
        parameters=[VERSION_ID],
        responses={200: CardRevisionOutput(many=True), 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "Revisions",
                value=examples.CARD_REVISION,
                response_only=True,
                status_codes=["200"],
            ),
            VERSION_NOT_FOUND_EXAMPLE,
        ],
    )
    def get(self, request, id):
        version = selectors.version_get(actor=request.user, id=id)
        revisions = (
            ModelCardRevision.objects.filter(card__version=version)
            .select_related("edited_by")
            .order_by("-revision")
        )
        return self.paginated(revisions, CardRevisionOutput)


class VersionEvaluationListCreate(RegistryView):
    @extend_schema(
        operation_id="versions_evaluations_list",
        tags=["evaluations"],
        summary="The version's evaluations",
        description="By split, newest first, with their fairness slices and the "
        "disparities computed from them.",
        parameters=[VERSION_ID],
        responses={200: EvaluationOutput(many=True), 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "Evaluations",
                value=examples.EVALUATION,
                response_only=True,
                status_codes=["200"],
            ),
            VERSION_NOT_FOUND_EXAMPLE,
        ],
    )
    def get(self, request, id):
        version = selectors.version_get(actor=request.user, id=id)
        return self.paginated(
            selectors.evaluations_of(version),
            EvaluationOutput,
            fairness_max_disparity=version.model.fairness_max_disparity,
            metric_directions=metric_directions(version.model),
        )

    @extend_schema(
        operation_id="versions_evaluations_create",
        tags=["evaluations"],
        summary="Record an evaluation",
        description="Metrics on one split of a dataset snapshot of the model's "
        "team, with fairness slices (attribute, group, size, metrics). "
        "Disparities are computed, never sent.",
        parameters=[VERSION_ID],
        request=EvaluationCreateInput,
        responses={
            201: EvaluationOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "Test split with slices",
                value=examples.EVALUATION_CREATE,
                request_only=True,
            ),
            OpenApiExample(
                "Recorded",
                value=examples.EVALUATION,
                response_only=True,
                status_codes=["201"],
            ),
            error_example(
                "NaN in a metric",
                400,
                {
                    "code": "invalid",
                    "message": "The evaluation was not recorded.",
                    "fields": {"metrics.auc": ["Must be a finite number."]},
                },
            ),
        ],
    )
    def post(self, request, id):
        actor = request.user
        message = "The evaluation was not recorded."
        version = selectors.version_get(actor=actor, id=id)
        data = self.parse_body(EvaluationCreateInput, message=message)
        dataset = snapshots_by_id(actor, [data["dataset"]]).get(data["dataset"])
        if dataset is None:
            raise RegistryInvalid(
                message, fields={"dataset": [f"No dataset snapshot {data['dataset']}."]}
            )
        data["dataset"] = dataset
        evaluation = services.evaluation_record(actor=actor, version=version, **data)
        context = {
            "fairness_max_disparity": version.model.fairness_max_disparity,
            "metric_directions": metric_directions(version.model),
        }
        return Response(
            EvaluationOutput(evaluation, context=context).data,
            status=status.HTTP_201_CREATED,
        )


class VersionReproductionListCreate(RegistryView):
    @extend_schema(
        operation_id="versions_reproductions_list",
        tags=["reproductions"],
        summary="The version's reproduction checks",
        description="Newest first.",
        parameters=[VERSION_ID],
        responses={200: ReproductionOutput(many=True), 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "Checks",
                value=examples.REPRODUCTION,
                response_only=True,
                status_codes=["200"],
            ),
            VERSION_NOT_FOUND_EXAMPLE,
        ],
    )
    def get(self, request, id):
        version = selectors.version_get(actor=request.user, id=id)
        checks = (
            ReproductionCheck.objects.filter(version=version)
            .select_related("checked_by")
            .order_by("-created_at", "-pk")
        )
        return self.paginated(checks, ReproductionOutput)

    @extend_schema(
        operation_id="versions_reproductions_create",
        tags=["reproductions"],
        summary="Record a re-run",
        description="The re-run's artifact sha256 and metrics are compared with "
        "the original under the model's reproducibility tolerance (exact hash, "
        "or per-metric tolerance against the latest test evaluation); the "
        "answer says pass or fail with the differences.",
        parameters=[VERSION_ID],
        request=ReproductionCreateInput,
        responses={
            201: ReproductionOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "A re-run", value=examples.REPRODUCTION_CREATE, request_only=True
            ),
            OpenApiExample(
                "Within tolerance",
                value=examples.REPRODUCTION,
                response_only=True,
                status_codes=["201"],
            ),
        ],
    )
    def post(self, request, id):
        version = selectors.version_get(actor=request.user, id=id)
        data = self.parse_body(
            ReproductionCreateInput,
            message="The reproduction check was not recorded.",
        )
        check = services.reproduction_check_record(
            actor=request.user, version=version, **data
        )
        return Response(ReproductionOutput(check).data, status=status.HTTP_201_CREATED)
