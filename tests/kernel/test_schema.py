"""The OpenAPI schema: valid, and listing the answers of the kernel's web layer."""

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

METHODS = ("get", "put", "post", "patch", "delete")


@pytest.fixture(scope="module")
def schema():
    with GENERATOR_STATS.silence():
        return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method in METHODS:
            if method in operations:
                yield f"{method.upper()} {path}", operations[method]


def test_the_schema_is_valid_openapi(schema):
    validate_schema(schema)


def test_every_operation_lists_the_shared_error_answers(schema):
    """Found by the schema fuzzing (tests/fuzz): the layer's 400s (page bounds,
    NUL in a query) and the ingestion's 415 answered codes the schema omitted."""
    operations = dict(_operations(schema))
    assert len(operations) > 50
    for label, operation in operations.items():
        responses = operation["responses"]
        assert {"400", "401"} <= set(responses), label
        assert responses["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOutput"
        }, label
        if "requestBody" in operation:
            assert "415" in responses, label


def test_a_view_s_own_description_of_an_error_is_kept(schema):
    responses = schema["paths"]["/api/v1/models/"]["post"]["responses"]
    assert responses["400"]["description"] != responses["401"]["description"]
    assert "input limits" not in responses["400"]["description"]
