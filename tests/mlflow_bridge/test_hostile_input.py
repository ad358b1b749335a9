"""Hostile input on the MLflow routes answers INVALID_PARAMETER_VALUE, never a
500, and writes nothing (issue #13: NUL, lone surrogates, deep nesting,
overflowing page tokens, Unicode digits)."""

import base64
import json

import pytest

from audit.models import AuditEvent
from models_registry.models import RegisteredModel
from tests.mlflow_bridge.conftest import token_for

pytestmark = pytest.mark.django_db
API = "/api/2.0/mlflow/"


@pytest.fixture
def headers(data_scientist):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_for(data_scientist)}"}


def _post(client, headers, path, body: str):
    return client.post(API + path, body, content_type="application/json", **headers)


def _assert_refused(response):
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "nul\\u0000model"}',
        '{"name": "m", "description": "a\\u0000b"}',
        '{"name": "m", "tags": [{"key": "k", "value": "\\ud800"}]}',
        '{"name": "m", "tags": [{"key": "\\udfff", "value": "v"}]}',
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["nul-name", "nul-description", "surrogate-tag", "surrogate-key", "deep"],
)
def test_hostile_bodies_are_refused_and_change_nothing(client, headers, body):
    events = AuditEvent.objects.count()
    _assert_refused(_post(client, headers, "registered-models/create", body))
    assert (RegisteredModel.objects.count(), AuditEvent.objects.count()) == (0, events)


@pytest.mark.parametrize(
    "query",
    [{"filter": "name = 'a\x00b'"}, {"name\x00": "x"}],
    ids=["nul-in-filter", "nul-in-key"],
)
def test_nul_in_a_query_string_is_refused_in_mlflow_form(client, headers, query):
    _assert_refused(client.get(API + "registered-models/search", query, **headers))


def test_a_page_token_past_the_largest_offset_is_refused(client, headers):
    token = base64.b64encode(json.dumps({"offset": 2**63}).encode()).decode()
    _assert_refused(
        client.get(API + "registered-models/search", {"page_token": token}, **headers)
    )
    deep = base64.b64encode(b"[" * 50_000).decode()
    _assert_refused(
        client.get(API + "registered-models/search", {"page_token": deep}, **headers)
    )


@pytest.mark.parametrize("version", ["²", "٣", "1²"])
def test_unicode_digits_are_not_versions(client, headers, version):
    _assert_refused(
        client.get(
            API + "model-versions/get", {"name": "m", "version": version}, **headers
        )
    )


def test_nul_in_a_file_source_is_refused_and_changes_nothing(
    client, headers, file_roots
):
    created = _post(client, headers, "registered-models/create", '{"name": "m"}')
    assert created.status_code == 200
    events = AuditEvent.objects.count()
    body = json.dumps({"name": "m", "source": f"file://{file_roots}/a\x00b"})
    _assert_refused(_post(client, headers, "model-versions/create", body))
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "tags",
    [
        # A chat whose messages nest deeper than any body may.
        {
            "_mlflow_prompt_type": "chat",
            "mlflow.prompt.text": "[" * 5_000 + "]" * 5_000,
        },
        {"mlflow.prompt.text": "Hi", "_mlflow_prompt_model_config": "{" * 3_000},
        {"mlflow.prompt.text": "Hi", "_mlflow_prompt_model_config": '{"top_p": 1e999}'},
        {"mlflow.prompt.text": "Hi", "_mlflow_prompt_response_format": "[1, 2]"},
        {"mlflow.prompt.text": "x" * 100_001},
        {"_mlflow_prompt_type": "chat", "mlflow.prompt.text": '[{"role": 1}]'},
    ],
    ids=["deep-chat", "deep-config", "huge-number", "list-format", "huge", "role"],
)
def test_hostile_prompt_versions_are_refused_and_change_nothing(client, headers, tags):
    _post(
        client,
        headers,
        "registered-models/create",
        json.dumps(
            {"name": "p", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]}
        ),
    )
    events = AuditEvent.objects.count()
    body = {
        "name": "p",
        "source": "dummy-source",
        "tags": [{"key": key, "value": value} for key, value in tags.items()],
    }
    _assert_refused(_post(client, headers, "model-versions/create", json.dumps(body)))
    assert RegisteredModel.objects.get(name="p").last_version_number == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "value", ["[" * 3_000, "{" * 3_000 + "}" * 3_000, '{"a": NaN}', "not json"]
)
def test_a_hostile_model_config_tag_on_a_prompt_version_is_refused(
    client, headers, value
):
    prompt = json.dumps(
        {"name": "p", "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]}
    )
    _post(client, headers, "registered-models/create", prompt)
    version = {
        "name": "p",
        "source": "dummy-source",
        "tags": [{"key": "mlflow.prompt.text", "value": "Hi {{name}}"}],
    }
    assert (
        _post(client, headers, "model-versions/create", json.dumps(version)).status_code
        == 200
    )
    events = AuditEvent.objects.count()
    body = {
        "name": "p",
        "version": "1",
        "key": "_mlflow_prompt_model_config",
        "value": value,
    }
    _assert_refused(_post(client, headers, "model-versions/set-tag", json.dumps(body)))
    assert AuditEvent.objects.count() == events
