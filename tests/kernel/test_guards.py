"""The kernel's limits on hostile input: every API route, one place (issue #13)."""

import json

import pytest
from django.db import connection
from rest_framework.exceptions import ParseError

from audit.models import AuditEvent
from kernel.guards import MAX_JSON_DEPTH, check_json_value, loads_checked, nul_fields
from models_registry.models import RegisteredModel

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/models/"


@pytest.fixture
def api(client, data_scientist):
    client.force_login(data_scientist)
    return client


def _post(api, path, body: str):
    return api.post(path, data=body, content_type="application/json")


def test_it_refuses_deep_nesting_without_recursing():
    with pytest.raises(ParseError, match="nested deeper"):
        loads_checked("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ParseError, match="nested deeper"):
        check_json_value(
            json.loads("[" * (MAX_JSON_DEPTH + 2) + "]" * (MAX_JSON_DEPTH + 2))
        )
    assert loads_checked("[" * 10 + "]" * 10) == [[[[[[[[[[]]]]]]]]]]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"name": "a\\u0000b"}', "NUL"),
        ('{"name": "\\ud800"}', "surrogate"),
        ('{"tags": {"\\ud800": "x"}}', "surrogate"),
        ('{"tags": [{"k": "\\u0000"}]}', "NUL"),
    ],
)
def test_it_refuses_unstorable_text_anywhere_in_a_body(text, problem):
    with pytest.raises(ParseError, match=problem):
        loads_checked(text)


def test_nul_is_left_to_the_serializers_by_the_api_parser():
    assert loads_checked('{"a": "x\\u0000"}', refuse_nul=False) == {"a": "x\x00"}
    with pytest.raises(ParseError, match="surrogate"):
        loads_checked('{"a": "\\ud800"}', refuse_nul=False)


def test_nul_inside_json_fields_is_a_field_error_naming_the_place():
    assert nul_fields({"schema": [{"name": "ok"}, {"name": "a\x00"}], "x": 1}) == {
        "schema[1].name": ["Null characters are not allowed."]
    }
    assert nul_fields({"tags": {"k\x00": "v"}}) == {
        "tags": ["Null characters are not allowed."]
    }


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "x", "team": "credit-risk", "description": "\\udc00"}',
        '{"name": "x", "team": "credit-risk", "\\ud800": 1}',
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["lone-surrogate", "surrogate-key", "deep"],
)
def test_hostile_bodies_get_a_400_and_change_nothing(api, body):
    events = AuditEvent.objects.count()
    response = _post(api, MODELS, body)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert (RegisteredModel.objects.count(), AuditEvent.objects.count()) == (0, events)


def test_nul_in_a_body_is_a_field_error_and_changes_nothing(api):
    events = AuditEvent.objects.count()
    response = _post(api, MODELS, '{"name": "nul\\u0000name", "team": "credit-risk"}')
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "Null characters are not allowed." in body["fields"]["name"]
    assert (RegisteredModel.objects.count(), AuditEvent.objects.count()) == (0, events)


@pytest.mark.parametrize(
    "query",
    [
        "limit=9223372036854775808",
        "limit=1000000000",
        "limit=0",
        "limit=-1",
        "limit=²",
        "offset=9223372036854775808",
        "offset=-5",
    ],
)
def test_page_bounds_answer_400(api, query):
    response = api.get(f"{MODELS}?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert name in response.json()["fields"]


def test_pages_within_bounds_work(api):
    response = api.get(f"{MODELS}?limit=1000&offset=2147483647")
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_options_describes_a_write_route_without_failing(api):
    response = api.options(MODELS)
    assert response.status_code == 200
    assert "application/json" in response.json()["parses"]


def test_nul_in_an_api_query_string_is_a_400_naming_the_parameter(api):
    response = api.get(f"{MODELS}?name=a%00b")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The query is invalid.",
        "fields": {"name": ["Null characters are not allowed."]},
    }


def test_pages_leave_nul_to_their_forms(api):
    assert api.get("/models/?q=a%00b").status_code < 500


def test_unknown_api_routes_answer_json_404(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "There is nothing here, or nothing you may see.",
        "fields": {},
    }


def test_database_down_is_a_503_with_retry_after(client, data_scientist, monkeypatch):
    client.raise_request_exception = False
    client.force_login(data_scientist)

    def refuse(*args, **kwargs):
        from django.db import OperationalError

        raise OperationalError("connection to server failed")

    with connection.execute_wrapper(refuse):
        api = client.get(MODELS)
        page = client.get("/models/")
    assert (api.status_code, api["Retry-After"]) == (503, "30")
    assert api.json()["code"] == "unavailable"
    assert (page.status_code, page["Retry-After"]) == (503, "30")
    assert b"Temporarily unavailable" in page.content
