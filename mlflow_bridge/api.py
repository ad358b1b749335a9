"""MLflow's model-registry REST API (``/api/2.0/mlflow/``), as MLflow clients
call it: GET with query parameters for reads, POST/PATCH/DELETE with JSON
bodies for writes, JSON answers with MLflow's field names, and errors as
``{"error_code", "message"}`` with MLflow's status codes.

Views parse, call one service or selector, and render.
"""

import functools
import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from kernel.api import READ_ONLY_MESSAGE
from kernel.errors import ServiceError
from kernel.roles import writes_nothing
from mlflow_bridge import (
    authentication,
    errors,
    mapping,
    prompts,
    selectors,
    services,
)
from mlflow_bridge.errors import MlflowError
from mlflow_bridge.params import Params, page_token
from mlflow_bridge.selectors import ModelView, VersionView

MODELS_PAGE_DEFAULT, MODELS_PAGE_MAX = 100, 1000
VERSIONS_PAGE_DEFAULT, VERSIONS_PAGE_MAX = 10_000, 200_000


# --- Requests ------------------------------------------------------------------------


def _error_response(error: MlflowError) -> JsonResponse:
    response = JsonResponse(error.as_json(), status=error.status_code)
    if error.error_code == errors.UNAUTHENTICATED:
        response["WWW-Authenticate"] = 'Basic realm="Gatehouse"'
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    return response


def endpoint(*methods: str, reads: tuple[str, ...] = ("GET",)):
    """Accept the listed methods, authenticate, parse, and render MLflow errors.

    Permission first: a write (any method not in ``reads``) from someone who may
    change nothing is refused before its parameters are read."""

    def decorate(handler):
        @csrf_exempt
        @functools.wraps(handler)
        def view(request: HttpRequest):
            if request.method not in methods:
                response = JsonResponse(
                    {
                        "error_code": errors.ENDPOINT_NOT_FOUND,
                        "message": f"{request.path} does not accept {request.method}.",
                    },
                    status=405,
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                actor = authentication.authenticate(request)
                if request.method not in reads and writes_nothing(actor):
                    raise errors.denied(READ_ONLY_MESSAGE)
                body = handler(request, actor, Params(request))
            except MlflowError as error:
                return _error_response(error)
            except ServiceError as error:
                return _error_response(errors.from_service_error(error))
            return JsonResponse(body)

        return view

    return decorate


@csrf_exempt
def unknown_endpoint(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "error_code": errors.ENDPOINT_NOT_FOUND,
            "message": (
                f"No endpoint {request.method} {request.path}: Gatehouse serves "
                "MLflow's model registry only. Point MLFLOW_REGISTRY_URI at "
                "Gatehouse and MLFLOW_TRACKING_URI at your MLflow tracking server."
            ),
        },
        status=404,
    )


# --- Answers -------------------------------------------------------------------------


def _millis(moment) -> int:
    return int(moment.timestamp() * 1000)


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in sorted(tags.items())]


def version_json(view: VersionView) -> dict[str, Any]:
    version = view.version
    artifact = version.artifact
    link = getattr(version, "mlflow_link", None)
    run_id = version.training_run.external_run_id if version.training_run else ""
    tags = {
        **version.tags,
        mapping.SHA256_TAG: artifact.sha256,
        mapping.SIZE_TAG: str(artifact.size_bytes),
        mapping.FORMAT_TAG: artifact.format,
    }
    # The other governed fields given as tags on creation, when they are set.
    if version.semantic_version:
        tags[mapping.SEMANTIC_VERSION_TAG] = version.semantic_version
    if artifact.preprocessing_code_version:
        tags[mapping.PREPROCESSING_TAG] = artifact.preprocessing_code_version
    if artifact.feature_spec:
        tags[mapping.FEATURE_SPEC_TAG] = json.dumps(artifact.feature_spec)
    content = getattr(version, "prompt", None)
    if content is not None:
        tags.update(prompts.rendered_version_tags(content))
    return {
        "name": version.model.name,
        "version": str(version.version),
        "creation_timestamp": _millis(version.created_at),
        "last_updated_timestamp": _millis(version.updated_at),
        "user_id": version.registered_by.username,
        "current_stage": view.stage,
        "description": version.description,
        "source": artifact.uri,
        "run_id": run_id or (link.run_id if link else ""),
        "run_link": link.run_link if link else "",
        "status": "READY",
        "tags": _tags(tags),
        "aliases": list(view.aliases),
    }


def model_json(view: ModelView) -> dict[str, Any]:
    model = view.model
    return {
        "name": model.name,
        "creation_timestamp": _millis(model.created_at),
        "last_updated_timestamp": _millis(model.updated_at),
        "user_id": model.created_by.username,
        "description": model.description,
        "latest_versions": [version_json(v) for v in view.latest_versions],
        "tags": _tags(view.tags),
        "aliases": [
            {"alias": alias, "version": str(number)}
            for alias, number in view.aliases.items()
        ],
    }


def _model(actor, params: Params):
    return selectors.model_get(actor=actor, name=params.text("name", required=True))


def _version(actor, params: Params):
    return selectors.version_get(
        actor=actor, name=params.text("name", required=True), number=params.version()
    )


def _one_model(actor, name: str) -> dict[str, Any]:
    return {
        "registered_model": model_json(selectors.model_view(actor=actor, name=name))
    }


def _one_version(version) -> dict[str, Any]:
    return {"model_version": version_json(selectors.version_views([version])[0])}


# --- Registered models ---------------------------------------------------------------


@endpoint("POST")
def registered_model_create(request, actor, params):
    tags = params.tags()
    model = services.registered_model_create(
        actor=actor,
        name=params.text("name", required=True),
        description=params.text("description"),
        tags=tags,
    )
    return {"registered_model": model_json(selectors.created_model_view(model, tags))}


@endpoint("GET")
def registered_model_get(request, actor, params):
    return _one_model(actor, params.text("name", required=True))


@endpoint("GET")
def registered_model_search(request, actor, params):
    # As MLflow: max_results=0 answers no models, and a page token when some
    # match.
    offset, limit = params.page(
        default=MODELS_PAGE_DEFAULT, maximum=MODELS_PAGE_MAX, minimum=0
    )
    views, has_more = selectors.model_search(
        actor=actor,
        filter_string=params.text("filter"),
        order_by=params.texts("order_by"),
        offset=offset,
        limit=limit,
    )
    body: dict[str, Any] = {"registered_models": [model_json(v) for v in views]}
    if has_more:
        body["next_page_token"] = page_token(offset + limit)
    return body


@endpoint("PATCH")
def registered_model_update(request, actor, params):
    name = params.text("name", required=True)
    services.registered_model_describe(
        actor=actor, name=name, description=params.text("description")
    )
    return _one_model(actor, name)


@endpoint("POST")
def registered_model_rename(request, actor, params):
    model = _model(actor, params)
    params.text("new_name", required=True)
    raise errors.invalid(
        f"Registered models cannot be renamed in Gatehouse: the name '{model.name}' "
        "is fixed once registered, because approvals, deployments and the audit "
        "log refer to it. Register a new model under the new name instead."
    )


@endpoint("DELETE")
def registered_model_delete(request, actor, params):
    services.registered_model_delete(
        actor=actor, name=params.text("name", required=True)
    )
    return {}


@endpoint("POST")
def registered_model_tag_set(request, actor, params):
    services.registered_model_tag_set(
        actor=actor,
        name=params.text("name", required=True),
        key=params.text("key", required=True),
        value=params.text("value"),
    )
    return {}


@endpoint("DELETE")
def registered_model_tag_delete(request, actor, params):
    services.registered_model_tag_delete(
        actor=actor,
        name=params.text("name", required=True),
        key=params.text("key", required=True),
    )
    return {}


@endpoint("GET", "POST", reads=("GET", "POST"))
def latest_versions(request, actor, params):
    views = selectors.latest_versions(
        actor=actor,
        name=params.text("name", required=True),
        stages=params.texts("stages"),
    )
    return {"model_versions": [version_json(view) for view in views]}


@endpoint("GET", "POST", "DELETE")
def alias(request, actor, params):
    name = params.text("name", required=True)
    alias_name = params.text("alias", required=True)
    if request.method == "GET":
        view = selectors.version_by_alias(actor=actor, name=name, alias=alias_name)
        return {"model_version": version_json(view)}
    if request.method == "DELETE":
        services.alias_delete(actor=actor, name=name, alias=alias_name)
        return {}
    if refusal := authentication.governed_alias_refusal(
        request, actor, name, alias_name
    ):
        raise refusal
    deployment_request = services.alias_set(
        actor=actor,
        name=name,
        alias=alias_name,
        number=params.version(),
        client=request.headers.get("User-Agent", ""),
    )
    if deployment_request is not None:
        raise errors.denied(
            f"'{alias_name}' is a governed alias: it names the version live in "
            f"{deployment_request.environment} and moves only through an approved "
            f"deployment. Deployment request #{deployment_request.pk} for version "
            f"{deployment_request.version.version} of {name} is "
            f"{deployment_request.status} and needs approval: "
            f"{services.request_url(deployment_request)}"
        )
    return {}


# --- Model versions ------------------------------------------------------------------


@endpoint("POST")
def model_version_create(request, actor, params):
    name = params.text("name", required=True)
    version, created = services.model_version_create(
        actor=actor,
        name=name,
        source=params.text("source", required=True),
        run_id=params.text("run_id"),
        run_link=params.text("run_link"),
        description=params.text("description"),
        tags=params.tags(),
        logged_model_id=params.text("model_id"),
    )
    if created:
        return {"model_version": version_json(selectors.created_version_view(version))}
    return _one_version(
        selectors.version_get(actor=actor, name=name, number=version.version)
    )


@endpoint("GET")
def model_version_get(request, actor, params):
    view = selectors.version_view(
        actor=actor, name=params.text("name", required=True), number=params.version()
    )
    return {"model_version": version_json(view)}


@endpoint("GET")
def model_version_search(request, actor, params):
    offset, limit = params.page(
        default=VERSIONS_PAGE_DEFAULT, maximum=VERSIONS_PAGE_MAX
    )
    views, has_more = selectors.version_search(
        actor=actor,
        filter_string=params.text("filter"),
        order_by=params.texts("order_by"),
        offset=offset,
        limit=limit,
    )
    body: dict[str, Any] = {"model_versions": [version_json(v) for v in views]}
    if has_more:
        body["next_page_token"] = page_token(offset + limit)
    return body


@endpoint("PATCH")
def model_version_update(request, actor, params):
    services.model_version_describe(
        actor=actor,
        name=params.text("name", required=True),
        number=params.version(),
        description=params.text("description"),
    )
    return _one_version(_version(actor, params))


@endpoint("DELETE")
def model_version_delete(request, actor, params):
    version = _version(actor, params)
    raise errors.denied(
        f"Gatehouse does not delete model versions: version {version.version} of "
        f"'{version.model.name}' is an immutable record that approvals, deployments "
        "and the audit log refer to."
    )


@endpoint("POST")
def model_version_transition_stage(request, actor, params):
    version = _version(actor, params)
    raise errors.denied(
        f"Stages are not set in Gatehouse: version {version.version}'s stage follows "
        "its deployments. Set a governed alias (such as 'champion' or 'challenger') "
        "to request a deployment, which reviewers approve."
    )


@endpoint("POST")
def model_version_tag_set(request, actor, params):
    services.model_version_tag_set(
        actor=actor,
        name=params.text("name", required=True),
        number=params.version(),
        key=params.text("key", required=True),
        value=params.text("value"),
    )
    return {}


@endpoint("DELETE")
def model_version_tag_delete(request, actor, params):
    services.model_version_tag_delete(
        actor=actor,
        name=params.text("name", required=True),
        number=params.version(),
        key=params.text("key", required=True),
    )
    return {}


@endpoint("GET")
def model_version_download_uri(request, actor, params):
    return {"artifact_uri": _version(actor, params).artifact.uri}
