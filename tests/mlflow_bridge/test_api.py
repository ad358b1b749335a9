"""The endpoints' HTTP contract: status codes, MLflow's JSON shapes, bad input,
and a fixed number of queries per read (Django's test client, no live server)."""

import base64
import json

import pytest

from audit.models import AuditEvent
from mlflow_bridge import services
from models_registry.models import RegisteredModel
from tests.mlflow_bridge.conftest import sha_tags, token_for

pytestmark = pytest.mark.django_db
API = "/api/2.0/mlflow/"


@pytest.fixture
def call(client, data_scientist):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(data_scientist)}"}

    def request(method, path, data=None, prefix=API):
        if method == "GET":
            return client.get(prefix + path, data or {}, **headers)
        return getattr(client, method.lower())(
            prefix + path,
            json.dumps(data or {}),
            content_type="application/json",
            **headers,
        )

    return request


@pytest.fixture
def churn(data_scientist):
    model = services.registered_model_create(
        actor=data_scientist, name="churn", tags={"owner": "dana"}
    )
    services.model_version_create(
        actor=data_scientist, name=model.name, source="s3://m/1", tags=sha_tags("1")
    )
    return model


def test_answers_in_mlflow_shapes(call, churn):
    response = call("GET", "registered-models/get", {"name": "churn"})
    assert response.status_code == 200
    body = response.json()["registered_model"]
    assert set(body) == {
        "name",
        "creation_timestamp",
        "last_updated_timestamp",
        "user_id",
        "description",
        "latest_versions",
        "tags",
        "aliases",
    }
    assert (body["name"], body["user_id"], body["aliases"]) == ("churn", "dana", [])
    assert {"key": "owner", "value": "dana"} in body["tags"]
    version = call("GET", "model-versions/get", {"name": "churn", "version": "1"})
    shape = version.json()["model_version"]
    assert {
        key: shape[key]
        for key in ("name", "version", "current_stage", "source", "status", "run_id")
    } == {
        "name": "churn",
        "version": "1",
        "current_stage": "None",
        "source": "s3://m/1",
        "status": "READY",
        "run_id": "",
    }
    assert isinstance(shape["creation_timestamp"], int)
    ajax = call(
        "GET",
        "registered-models/get",
        {"name": "churn"},
        prefix="/ajax-api/2.0/mlflow/",
    )
    assert ajax.json() == response.json()


@pytest.mark.parametrize(
    ("method", "path", "data", "status", "code"),
    [
        (
            "GET",
            "registered-models/get",
            {"name": "nope"},
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "POST",
            "registered-models/create",
            {"name": "churn"},
            400,
            "RESOURCE_ALREADY_EXISTS",
        ),
        ("GET", "registered-models/get", {}, 400, "INVALID_PARAMETER_VALUE"),
        (
            "DELETE",
            "registered-models/delete",
            {"name": "churn"},
            403,
            "PERMISSION_DENIED",
        ),
        (
            "POST",
            "registered-models/rename",
            {"name": "churn", "new_name": "x"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "POST",
            "registered-models/alias",
            {"name": "churn", "alias": "a b", "version": "1"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "POST",
            "registered-models/alias",
            {"name": "churn", "alias": "a", "version": "one"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "GET",
            "registered-models/search",
            {"page_token": "not-a-token"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "GET",
            "registered-models/search",
            {"filter": "name = "},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "GET",
            "registered-models/search",
            {"max_results": "-1"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "POST",
            "registered-models/create",
            {"name": 5},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "POST",
            "model-versions/create",
            {"name": "churn", "source": "s3://m/2", "tags": "x"},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "DELETE",
            "model-versions/delete",
            {"name": "churn", "version": "1"},
            403,
            "PERMISSION_DENIED",
        ),
        (
            "GET",
            "model-versions/get",
            {"name": "churn", "version": "2"},
            404,
            "RESOURCE_DOES_NOT_EXIST",
        ),
        (
            "POST",
            "registered-models/set-tag",
            ["not", "an", "object"],
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "POST",
            "registered-models/create",
            {"name": "new-one", "tags": [{"value": "no key"}]},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "POST",
            "registered-models/create",
            {"name": "new-one", "tags": [{"key": "k", "value": 3}]},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "POST",
            "registered-models/create",
            {
                "name": "new-one",
                "tags": [{"key": "gatehouse.latency_slo_ms", "value": "fast"}],
            },
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "GET",
            "registered-models/search",
            {"order_by": ["name SIDEWAYS"]},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        (
            "GET",
            "model-versions/search",
            {"order_by": ["name ASC", "name DESC"]},
            400,
            "INVALID_PARAMETER_VALUE",
        ),
        ("POST", "runs/create", {}, 404, "ENDPOINT_NOT_FOUND"),
        ("GET", "registered-models/create", {}, 405, "ENDPOINT_NOT_FOUND"),
    ],
)
def test_error_codes_and_statuses(call, churn, method, path, data, status, code):
    events = AuditEvent.objects.count()
    response = call(method, path, data)
    assert response.status_code == status
    assert response.json()["error_code"] == code
    assert response.json()["message"]
    assert list(RegisteredModel.objects.values_list("name", flat=True)) == ["churn"]
    assert AuditEvent.objects.count() == events


def test_unauthenticated_requests_are_told_how(client, churn):
    response = client.get(API + "registered-models/get", {"name": "churn"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="Gatehouse"'
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    assert "MLFLOW_TRACKING_TOKEN" in response.json()["message"]
    basic = base64.b64encode(b"dana").decode()
    response = client.get(
        API + "registered-models/get",
        {"name": "churn"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 401


def test_a_malformed_body_is_refused(call, client, data_scientist):
    response = client.post(
        API + "registered-models/create",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_for(data_scientist)}",
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert not RegisteredModel.objects.exists()


def _grow(data_scientist, model, versions: int, tags: int):
    for number in range(versions):
        services.model_version_create(
            actor=data_scientist,
            name=model.name,
            source=f"s3://m/{model.name}/{number}",
            tags=sha_tags(f"{model.name}-{number}"),
        )
    for number in range(tags):
        services.registered_model_tag_set(
            actor=data_scientist, name=model.name, key=f"k{number}", value="v"
        )
        services.alias_set(
            actor=data_scientist, name=model.name, alias=f"a{number}", number=1
        )


def test_reads_run_a_fixed_number_of_queries(
    call, data_scientist, django_assert_max_num_queries
):
    small = services.registered_model_create(actor=data_scientist, name="small")
    _grow(data_scientist, small, versions=1, tags=1)
    reads = [
        ("registered-models/get", {"name": "small"}),
        ("registered-models/search", {}),
        ("model-versions/search", {"filter": "source_path LIKE 's3://%'"}),
        ("model-versions/get", {"name": "small", "version": "1"}),
        ("registered-models/alias", {"name": "small", "alias": "a0"}),
    ]
    counts = {}
    for path, data in reads:
        with django_assert_max_num_queries(20) as captured:
            assert call("GET", path, data).status_code == 200
        counts[path] = len(captured)
    for number in range(6):
        model = services.registered_model_create(
            actor=data_scientist, name=f"m{number}"
        )
        _grow(data_scientist, model, versions=3, tags=3)
    _grow(data_scientist, small, versions=0, tags=4)
    for path, data in reads:
        with django_assert_max_num_queries(counts[path]):
            assert call("GET", path, data).status_code == 200
    # Authentication takes one or two of these (the token, and its last use
    # once a minute); permissions are checked inside the reads' own queries.
    assert counts == {
        "registered-models/get": 4,
        "registered-models/search": 4,
        "model-versions/search": 3,
        "model-versions/get": 2,
        "registered-models/alias": 4,
    }


def test_writes_run_a_fixed_number_of_statements(call, data_scientist):
    """Registering a model and a version: what they must do (authenticate with
    the roles, check, lock, number, insert, grant, audit), each one statement."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call("GET", "registered-models/search")  # the token's last use, once a minute
    body = {"name": "counted", "tags": [{"key": "owner", "value": "dana"}]}
    with CaptureQueriesContext(connection) as created:
        assert call("POST", "registered-models/create", body).status_code == 200
    statements = [query["sql"] for query in created.captured_queries]
    tags = [{"key": key, "value": value} for key, value in sha_tags("1").items()]
    version = {"name": "counted", "source": "s3://m/1", "tags": tags}
    with CaptureQueriesContext(connection) as registered:
        assert call("POST", "model-versions/create", version).status_code == 200
    versions = [query["sql"] for query in registered.captured_queries]
    # The test's own transaction turns BEGIN/COMMIT into a savepoint and its
    # release: the same number of round trips.
    assert len(statements) == 8, statements
    # The name is checked by the insert itself (ON CONFLICT), not beforehand.
    assert not [sql for sql in statements if sql.startswith("SELECT 1 FROM models_")]
    assert len(versions) == 10, versions
    assert sum("audit_append" in sql for sql in statements) == 2  # model, tags
    # The artifact, the version, its card and the card's revision: one statement.
    assert sum(sql.startswith("WITH i0 AS (INSERT") for sql in versions) == 1


@pytest.mark.parametrize(
    "tags",
    [
        [],
        [{"key": "gatehouse.team", "value": "no-such-team"}],
        [{"key": "gatehouse.team", "value": "recommendations"}],  # not theirs
    ],
)
def test_a_taken_name_answers_already_exists_whatever_the_team_tag(
    call, churn, other_team, tags
):
    """mlflow.register_model creates the model and carries on when it exists:
    a taken name must answer RESOURCE_ALREADY_EXISTS before any team error."""
    events = AuditEvent.objects.count()
    response = call("POST", "registered-models/create", {"name": "churn", "tags": tags})
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "RESOURCE_ALREADY_EXISTS",
        "message": "Registered Model (name=churn) already exists.",
    }
    assert AuditEvent.objects.count() == events
