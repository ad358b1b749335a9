"""The approvals endpoints in the OpenAPI schema: each documented, authenticated,
with examples, and without generator warnings."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

OPERATIONS = {
    ("get", "/api/v1/requests/"): "requests_list",
    ("post", "/api/v1/requests/"): "requests_create",
    ("get", "/api/v1/requests/queue"): "requests_queue",
    ("get", "/api/v1/requests/{id}/"): "requests_retrieve",
    ("post", "/api/v1/requests/{id}/decisions"): "requests_decide",
    ("post", "/api/v1/requests/{id}/cancel"): "requests_cancel",
    ("get", "/api/v1/deployments/"): "deployments_list",
    ("get", "/api/v1/deployments/{id}/"): "deployments_retrieve",
    ("post", "/api/v1/deployments/{id}/rollback"): "deployments_rollback",
    (
        "get",
        "/api/v1/models/{name}/deployments/{environment}",
    ): "models_deployments_live",
    ("get", "/api/v1/versions/{id}/validations"): "versions_validations_list",
    ("post", "/api/v1/versions/{id}/validations"): "versions_validations_create",
    ("post", "/api/v1/findings/{id}/status"): "findings_status",
}


@pytest.fixture(scope="module")
def schema_and_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, warnings


def test_every_endpoint_is_documented_with_examples(schema_and_warnings):
    schema, _ = schema_and_warnings
    for (method, path), operation_id in OPERATIONS.items():
        operation = schema["paths"][path][method]
        assert operation["operationId"] == operation_id
        assert {"tokenAuth": []} in operation["security"]
        success = next(
            body
            for status, body in operation["responses"].items()
            if status.startswith("2")
        )
        assert success["content"]["application/json"].get("examples"), operation_id
        if method == "post":
            request_body = operation["requestBody"]["content"]["application/json"]
            assert request_body.get("examples"), operation_id
            assert "400" in operation["responses"], operation_id


def test_the_live_endpoint_documents_its_etag_and_304(schema_and_warnings):
    schema, _ = schema_and_warnings
    operation = schema["paths"]["/api/v1/models/{name}/deployments/{environment}"][
        "get"
    ]
    assert "304" in operation["responses"]
    # No body, so no media type: a `null` schema made the document invalid.
    assert "content" not in operation["responses"]["304"]
    parameters = {(p["in"], p["name"]) for p in operation["parameters"]}
    assert {("query", "at"), ("header", "If-None-Match")} <= parameters


def test_the_approvals_schema_has_no_generator_warnings(schema_and_warnings):
    _, warnings = schema_and_warnings
    assert [w for w in warnings if "approvals" in w or "enum naming" in w] == []
