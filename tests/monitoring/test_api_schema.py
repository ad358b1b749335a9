"""The monitoring endpoints in the OpenAPI schema: documented, authenticated, and
without generator warnings."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

BASE = "/api/v1/monitoring/"
OPERATIONS = {
    ("post", "models/{name}/environments/{environment}/predictions"): (
        "monitoring_predictions_push"
    ),
    ("post", "models/{name}/environments/{environment}/labels"): (
        "monitoring_labels_push"
    ),
    ("post", "models/{name}/environments/{environment}/metrics"): (
        "monitoring_metrics_push"
    ),
    ("get", "models/{name}/environments/{environment}/windows"): (
        "monitoring_windows_list"
    ),
    ("post", "models/{name}/versions/{number}/reference"): (
        "monitoring_reference_upload"
    ),
    ("get", "models/{name}/config"): "monitoring_config_retrieve",
    ("patch", "models/{name}/config"): "monitoring_config_update",
    ("get", "batches/{id}"): "monitoring_batches_retrieve",
    ("get", "alerts/"): "monitoring_alerts_list",
    ("get", "alerts/{id}"): "monitoring_alerts_retrieve",
    ("post", "alerts/{id}/acknowledge"): "monitoring_alerts_acknowledge",
    ("post", "alerts/{id}/resolve"): "monitoring_alerts_resolve",
}


@pytest.fixture(scope="module")
def schema_and_warnings():
    GENERATOR_STATS.reset()
    with GENERATOR_STATS.silence():
        schema = SchemaGenerator().get_schema(request=None, public=True)
    warnings = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    GENERATOR_STATS.reset()
    return schema, warnings


def test_every_monitoring_endpoint_is_documented(schema_and_warnings):
    schema, _ = schema_and_warnings
    for (method, path), operation_id in OPERATIONS.items():
        operation = schema["paths"][BASE + path][method]
        assert operation["operationId"] == operation_id
        assert {"tokenAuth": []} in operation["security"]
        assert "404" in operation["responses"] or path == "alerts/", operation_id


def test_pushes_take_json_and_parquet_and_document_every_refusal(
    schema_and_warnings,
):
    schema, _ = schema_and_warnings
    operation = schema["paths"][
        BASE + "models/{name}/environments/{environment}/predictions"
    ]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "application/vnd.apache.parquet",
    }
    assert {"200", "202", "400", "403", "404", "409", "413"} <= set(
        operation["responses"]
    )


def test_the_monitoring_schema_has_no_generator_warnings(schema_and_warnings):
    _, warnings = schema_and_warnings
    assert [w for w in warnings if "monitoring" in w or "enum naming" in w] == []
