"""The OpenAPI schema lists every registry endpoint, with examples that match
what the API really accepts and answers."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS, reset_generator_stats
from drf_spectacular.generators import SchemaGenerator

from models_registry import serializers
from models_registry.api import examples
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    client_for,
    evaluation_body,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
)

pytestmark = pytest.mark.django_db

# path → {method: (operationId, tag)}
ENDPOINTS = {
    "/api/v1/models/": {
        "get": ("models_list", "models"),
        "post": ("models_create", "models"),
    },
    "/api/v1/models/{name}/": {
        "get": ("models_retrieve", "models"),
        "patch": ("models_update", "models"),
    },
    "/api/v1/models/{name}/risk-class": {
        "post": ("models_risk_class_change", "models"),
    },
    "/api/v1/models/{name}/versions/": {
        "get": ("model_versions_list", "versions"),
        "post": ("model_versions_register", "versions"),
    },
    "/api/v1/models/{name}/runs/": {
        "get": ("model_runs_list", "runs"),
        "post": ("model_runs_create", "runs"),
    },
    "/api/v1/versions/": {"get": ("versions_list", "versions")},
    "/api/v1/versions/{id}/": {
        "get": ("versions_retrieve", "versions"),
        "patch": ("versions_update", "versions"),
    },
    "/api/v1/versions/{id}/checklist": {"get": ("versions_checklist", "versions")},
    "/api/v1/versions/{id}/card": {
        "get": ("versions_card_retrieve", "cards"),
        "put": ("versions_card_update", "cards"),
    },
    "/api/v1/versions/{id}/card/revisions": {
        "get": ("versions_card_revisions_list", "cards"),
    },
    "/api/v1/versions/{id}/evaluations": {
        "get": ("versions_evaluations_list", "evaluations"),
        "post": ("versions_evaluations_create", "evaluations"),
    },
    "/api/v1/versions/{id}/reproductions": {
        "get": ("versions_reproductions_list", "reproductions"),
        "post": ("versions_reproductions_create", "reproductions"),
    },
    "/api/v1/datasets/": {
        "get": ("datasets_list", "datasets"),
        "post": ("datasets_create", "datasets"),
    },
    "/api/v1/datasets/{id}/": {"get": ("datasets_retrieve", "datasets")},
    "/api/v1/runs/{id}/": {"get": ("runs_retrieve", "runs")},
}


@pytest.fixture
def schema(client):
    response = client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert response.status_code == 200
    return response.json()


def test_schema_lists_every_registry_endpoint(schema):
    for path, methods in ENDPOINTS.items():
        assert path in schema["paths"], path
        operations = {
            method: (operation["operationId"], operation["tags"])
            for method, operation in schema["paths"][path].items()
            if method in {"get", "post", "put", "patch", "delete"}
        }
        assert operations == {
            method: (operation_id, [tag])
            for method, (operation_id, tag) in methods.items()
        }, path


def test_every_operation_has_examples_and_error_responses(schema):
    for path, methods in ENDPOINTS.items():
        for method in methods:
            operation = schema["paths"][path][method]
            success = next(code for code in operation["responses"] if code < "300")
            content = operation["responses"][success]["content"]["application/json"]
            assert content["examples"], (path, method)
            error_codes = {code for code in operation["responses"] if code >= "400"}
            assert error_codes, (path, method)
            if method != "get":
                body = operation["requestBody"]["content"]["application/json"]
                assert body["examples"], (path, method)
            assert {"tokenAuth": []} in operation["security"], (path, method)


def test_list_operations_are_paginated(schema):
    for path, methods in ENDPOINTS.items():
        operation_id, _ = methods.get("get", ("", ""))
        if not operation_id.endswith("_list"):
            continue
        response = schema["paths"][path]["get"]["responses"]["200"]
        reference = response["content"]["application/json"]["schema"]["$ref"]
        component = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]
        assert {"count", "next", "previous", "results"} <= set(component["properties"])
        names = {
            parameter["name"]
            for parameter in schema["paths"][path]["get"]["parameters"]
        }
        assert {"limit", "offset"} <= names, path


def test_schema_generation_has_no_warnings_for_the_registry():
    reset_generator_stats()
    SchemaGenerator().get_schema(request=None, public=True)
    problems = [
        message
        for message in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
        if "models_registry/api/" in message or "models_registry/serializers" in message
    ]
    reset_generator_stats()
    assert problems == []


@pytest.mark.parametrize(
    ("serializer", "example"),
    [
        (serializers.ModelCreateInput, examples.MODEL_CREATE),
        (serializers.ModelUpdateInput, examples.MODEL_PATCH),
        (serializers.RiskClassChangeInput, examples.RISK_CLASS_CHANGE),
        (serializers.VersionRegisterInput, examples.VERSION_REGISTER),
        (serializers.VersionRegisterInput, examples.VERSION_REGISTER_WITH_RUN_ID),
        (serializers.VersionUpdateInput, examples.VERSION_PATCH),
        (serializers.RunCreateInput, examples.RUN_CREATE),
        (serializers.CardInput, examples.CARD_TEXT),
        (serializers.EvaluationCreateInput, examples.EVALUATION_CREATE),
        (serializers.ReproductionCreateInput, examples.REPRODUCTION_CREATE),
        (serializers.DatasetCreateInput, examples.DATASET_CREATE),
    ],
)
def test_request_examples_have_valid_shapes(serializer, example):
    checked = serializer(
        data=example, partial=serializer is serializers.ModelUpdateInput
    )
    assert checked.is_valid(), checked.errors


def test_response_examples_have_the_fields_of_real_responses(
    data_scientist, credit_model, team
):
    version = factories.make_passing_version(data_scientist, credit_model)
    client = client_for(data_scientist)
    dataset = version.training_run.inputs.first()
    real = {
        "model": client.get(f"{API}models/credit-scoring/").json(),
        "version": client.get(f"{API}versions/{version.pk}/").json(),
        "run": client.get(f"{API}runs/{version.training_run_id}/").json(),
        "dataset": client.get(f"{API}datasets/{dataset.pk}/").json(),
        "card": client.get(f"{API}versions/{version.pk}/card").json(),
        "revision": client.get(f"{API}versions/{version.pk}/card/revisions").json()[
            "results"
        ][0],
        "evaluation": client.post(
            f"{API}versions/{version.pk}/evaluations",
            evaluation_body(dataset),
            format="json",
        ).json(),
        "reproduction": client.get(f"{API}versions/{version.pk}/reproductions").json()[
            "results"
        ][0],
        "checklist": client.get(f"{API}versions/{version.pk}/checklist").json(),
    }
    documented = {
        "model": examples.MODEL,
        "version": examples.VERSION,
        "run": examples.RUN,
        "dataset": examples.DATASET,
        "card": examples.CARD,
        "revision": examples.CARD_REVISION,
        "evaluation": examples.EVALUATION,
        "reproduction": examples.REPRODUCTION,
        "checklist": examples.CHECKLIST,
    }
    for name, body in real.items():
        assert set(documented[name]) == set(body), name
    nested = [
        ("version", "artifact"),
        ("version", "training_run"),
        ("evaluation", "dataset"),
    ]
    for name, field in nested:
        assert set(documented[name][field]) == set(real[name][field]), (name, field)
    assert set(examples.RUN["inputs"][0]) == set(real["run"]["inputs"][0])
    assert set(examples.EVALUATION["disparities"][0]) == set(
        real["evaluation"]["disparities"][0]
    )
    assert set(examples.CHECKLIST["items"][0]) == set(real["checklist"]["items"][0])
    assert set(examples.CHECKLIST["review"][0]) == set(real["checklist"]["review"][0])
