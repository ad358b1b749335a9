"""Registered models, and the versions and runs registered under one model."""

from functools import partial

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from kernel.api import error_example, error_response
from models_registry import page_selectors, selectors, services
from models_registry.api import examples
from models_registry.api.common import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    MODEL_NAME,
    NOT_FOUND,
    NOT_FOUND_EXAMPLE,
    RegistryView,
    model_output,
    page_of,
    resolve_run_inputs,
    team_by_slug,
    version_output,
)
from models_registry.errors import RegistryInvalid
from models_registry.serializers import (
    ModelCreateInput,
    ModelFilters,
    ModelOutput,
    ModelUpdateInput,
    ModelVersionFilters,
    RiskClassChangeInput,
    RunCreateInput,
    RunOutput,
    VersionOutput,
    VersionRegisterInput,
)


class ModelListCreate(RegistryView):
    @extend_schema(
        operation_id="models_list",
        tags=["models"],
        summary="List models",
        description="The models you may see (your teams' models, the models you "
        "review; every model for auditors), by name.",
        parameters=[ModelFilters],
        responses={200: ModelOutput(many=True), 400: BAD_REQUEST},
        examples=[
            OpenApiExample(
                "A page of models",
                value=examples.MODEL,
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request):
        filters = self.parse_query(ModelFilters)
        return page_of(
            self,
            partial(page_selectors.model_page, actor=request.user, filters=filters),
            model_output,
        )

    @extend_schema(
        operation_id="models_create",
        tags=["models"],
        summary="Register a model",
        description="Data scientists register models for their own teams. The "
        "name never changes afterwards.",
        request=ModelCreateInput,
        responses={
            201: ModelOutput,
            400: BAD_REQUEST,
            403: error_response("Only data scientists register models."),
            409: CONFLICT,
        },
        examples=[
            OpenApiExample(
                "A high-risk credit model",
                value=examples.MODEL_CREATE,
                request_only=True,
            ),
            OpenApiExample(
                "Registered",
                value={**examples.MODEL, "latest_version": 0},
                response_only=True,
                status_codes=["201"],
            ),
            error_example(
                "Taken name",
                400,
                {
                    "code": "invalid",
                    "message": "The model was not registered.",
                    "fields": {"name": ["A model with this name exists already."]},
                },
            ),
        ],
    )
    def post(self, request):
        message = "The model was not registered."
        data = self.parse_body(ModelCreateInput, message=message)
        team = team_by_slug(data.pop("team"), message=message)
        model = services.model_create(actor=request.user, team=team, **data)
        return Response(ModelOutput(model).data, status=status.HTTP_201_CREATED)


class ModelDetail(RegistryView):
    @extend_schema(
        operation_id="models_retrieve",
        tags=["models"],
        summary="Read a model",
        parameters=[MODEL_NAME],
        responses={200: ModelOutput, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A model",
                value=examples.MODEL,
                response_only=True,
                status_codes=["200"],
            ),
            NOT_FOUND_EXAMPLE,
        ],
    )
    def get(self, request, name):
        return Response(
            model_output(page_selectors.model_one(actor=request.user, name=name))
        )

    @extend_schema(
        operation_id="models_update",
        tags=["models"],
        summary="Change a model's descriptive fields",
        description="Only the fields sent change. `name` and `team` never change "
        "and `risk_class` changes through `POST …/risk-class`: sending them "
        "answers 400 with a field error saying so. Every change is audited with "
        "its diff.",
        parameters=[MODEL_NAME],
        request=ModelUpdateInput,
        responses={
            200: ModelOutput,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "New title and threshold", value=examples.MODEL_PATCH, request_only=True
            ),
            OpenApiExample(
                "Changed",
                value={**examples.MODEL, **examples.MODEL_PATCH},
                response_only=True,
                status_codes=["200"],
            ),
            error_example(
                "Trying to rename",
                400,
                {
                    "code": "invalid",
                    "message": "The model was not changed.",
                    "fields": {"name": ["The name of a model never changes."]},
                },
            ),
            NOT_FOUND_EXAMPLE,
        ],
    )
    def patch(self, request, name):
        model = selectors.model_get(actor=request.user, name=name)
        changes = self.parse_body(
            ModelUpdateInput,
            message="The model was not changed.",
            partial=True,
        )
        services.model_update(actor=request.user, model=model, **changes)
        return Response(
            ModelOutput(selectors.model_get(actor=request.user, name=name)).data
        )


class ModelRiskClass(RegistryView):
    @extend_schema(
        operation_id="models_risk_class_change",
        tags=["models"],
        summary="Change a model's risk class",
        description="Risk officers assigned to the model only; the reason is "
        "required and kept in the audit log.",
        parameters=[MODEL_NAME],
        request=RiskClassChangeInput,
        responses={
            200: ModelOutput,
            400: BAD_REQUEST,
            403: error_response("Only risk officers change a model's risk class."),
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "Raise to critical", value=examples.RISK_CLASS_CHANGE, request_only=True
            ),
            OpenApiExample(
                "Changed",
                value={**examples.MODEL, "risk_class": "critical"},
                response_only=True,
                status_codes=["200"],
            ),
            error_example(
                "No reason",
                400,
                {
                    "code": "invalid",
                    "message": "The risk class was not changed.",
                    "fields": {"reason": ["Say why the risk class changes."]},
                },
            ),
            error_example(
                "Not a risk officer",
                403,
                {
                    "code": "permission_denied",
                    "message": "Only risk officers change a model's risk class.",
                    "fields": {},
                },
            ),
        ],
    )
    def post(self, request, name):
        model = selectors.model_get(actor=request.user, name=name)
        data = self.parse_body(
            RiskClassChangeInput, message="The risk class was not changed."
        )
        services.model_risk_class_change(actor=request.user, model=model, **data)
        return Response(
            ModelOutput(selectors.model_get(actor=request.user, name=name)).data
        )


class ModelVersionListRegister(RegistryView):
    @extend_schema(
        operation_id="model_versions_list",
        tags=["versions"],
        summary="List a model's versions",
        description="Newest first.",
        parameters=[MODEL_NAME, ModelVersionFilters],
        responses={200: VersionOutput(many=True), 400: BAD_REQUEST, 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A page of versions",
                value=examples.VERSION,
                response_only=True,
                status_codes=["200"],
            ),
            NOT_FOUND_EXAMPLE,
        ],
    )
    def get(self, request, name):
        try:
            filters = self.parse_query(ModelVersionFilters)
            read = partial(
                page_selectors.version_page,
                actor=request.user,
                filters=filters,
                model_name=name,
            )
            return page_of(self, read, version_output)
        except (RegistryInvalid, exceptions.ValidationError):
            # A bad filter or page: still 404 first for a model one may not
            # see (the page's own query answers that when the input is good).
            selectors.model_get(actor=request.user, name=name)
            raise

    @extend_schema(
        operation_id="model_versions_register",
        tags=["versions"],
        summary="Register a version in one call",
        description=(
            "Carries the artifact, the training run — either `run_id` of a run "
            "recorded earlier, or a `run` object recorded now (a run with the same "
            "`external_run_id` is reused) — the description, tags, semantic "
            "version and model card text. All of it is written, or none of it.\n\n"
            "Idempotent: sending the same artifact sha256 for the same model again "
            "answers **200** with the existing version and writes nothing; a new "
            "version answers **201**. Version numbers are gapless per model.\n\n"
            "Refused with field errors: a malformed sha256, an unknown URI scheme "
            "(s3, gs, az, abfss, file, https, runs:/, models:/, mlflow-artifacts:/), "
            "non-finite numbers, and anything that looks like a credential (cloud "
            "keys, private keys, bearer tokens, passwords in URIs) in parameters, "
            "tags, description or card text."
        ),
        parameters=[MODEL_NAME],
        request=VersionRegisterInput,
        responses={
            201: VersionOutput,
            200: OpenApiResponse(
                VersionOutput, description="Registered before: the existing version."
            ),
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        examples=[
            OpenApiExample(
                "Artifact with a new run",
                value=examples.VERSION_REGISTER,
                request_only=True,
            ),
            OpenApiExample(
                "Artifact with a run recorded earlier",
                value=examples.VERSION_REGISTER_WITH_RUN_ID,
                request_only=True,
            ),
            OpenApiExample(
                "Registered",
                value=examples.VERSION,
                response_only=True,
                status_codes=["201"],
            ),
            OpenApiExample(
                "Sent again",
                value=examples.VERSION,
                response_only=True,
                status_codes=["200"],
            ),
            error_example(
                "A secret in the parameters",
                400,
                {
                    "code": "invalid",
                    "message": "The version was not registered: The training run "
                    "was not recorded.",
                    "fields": {
                        "run.parameters": [
                            "Looks like it holds credentials (an AWS access key "
                            "id). Secrets must never be stored in Gatehouse: "
                            "remove them."
                        ]
                    },
                },
            ),
            error_example(
                "A malformed sha256",
                400,
                {
                    "code": "invalid",
                    "message": "The version was not registered.",
                    "fields": {
                        "artifact.sha256": [
                            "Must be a SHA-256 digest: 64 lowercase hexadecimal "
                            "characters."
                        ]
                    },
                },
            ),
            NOT_FOUND_EXAMPLE,
        ],
    )
    def post(self, request, name):
        actor = request.user
        message = "The version was not registered."
        model = selectors.model_get(actor=actor, name=name)
        data = self.parse_body(VersionRegisterInput, message=message)
        run = data.pop("run", None)
        run_id = data.pop("run_id", None)
        training_run = None
        if run_id is not None:
            training_run = (
                selectors.run_list(actor=actor, model=model).filter(pk=run_id).first()
            )
            if training_run is None:
                raise RegistryInvalid(
                    message,
                    fields={"run_id": [f"No training run {run_id} of this model."]},
                )
        if run is not None:
            run["inputs"] = resolve_run_inputs(
                actor, run.get("inputs", []), where="run.inputs", message=message
            )
        version, created = services.model_version_register_with_run(
            actor=actor, model=model, run=run, training_run=training_run, **data
        )
        version = selectors.version_get(actor=actor, id=version.pk)
        return Response(
            VersionOutput(version).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ModelRunListCreate(RegistryView):
    @extend_schema(
        operation_id="model_runs_list",
        tags=["runs"],
        summary="List a model's training runs",
        description="Newest first, with their input snapshots.",
        parameters=[MODEL_NAME],
        responses={200: RunOutput(many=True), 404: NOT_FOUND},
        examples=[
            OpenApiExample(
                "A page of runs",
                value=examples.RUN,
                response_only=True,
                status_codes=["200"],
            ),
            NOT_FOUND_EXAMPLE,
        ],
    )
    def get(self, request, name):
        model = selectors.model_get(actor=request.user, name=name)
        return self.paginated(
            selectors.run_list(actor=request.user, model=model), RunOutput
        )

    @extend_schema(
        operation_id="model_runs_create",
        tags=["runs"],
        summary="Record a training run",
        description="Idempotent by `external_run_id`: sending the same run again "
        "answers 200 with the run recorded first; the same id with another "
        "commit or environment answers 409.",
        parameters=[MODEL_NAME],
        request=RunCreateInput,
        responses={
            201: RunOutput,
            200: OpenApiResponse(RunOutput, description="Recorded before."),
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
        },
        examples=[
            OpenApiExample("A run", value=examples.RUN_CREATE, request_only=True),
            OpenApiExample(
                "Recorded", value=examples.RUN, response_only=True, status_codes=["201"]
            ),
            error_example(
                "Same run id, other commit",
                409,
                {
                    "code": "conflict",
                    "message": "The training run was not recorded.",
                    "fields": {
                        "external_run_id": [
                            "A run with this id exists with another commit or "
                            "environment."
                        ]
                    },
                },
            ),
        ],
    )
    def post(self, request, name):
        actor = request.user
        message = "The training run was not recorded."
        model = selectors.model_get(actor=actor, name=name)
        data = self.parse_body(RunCreateInput, message=message)
        data["inputs"] = resolve_run_inputs(
            actor, data.get("inputs", []), where="inputs", message=message
        )
        run, created = services.training_run_create(actor=actor, model=model, **data)
        return Response(
            RunOutput(selectors.run_get(actor=actor, id=run.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
