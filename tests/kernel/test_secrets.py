"""Secrets get in through no field (issue #14 item 2).

The walk: every input serializer of every write in the OpenAPI schema, every
string and JSON field at any depth. Each must be scanned for credentials
(a body carrying one there is refused with a field error naming that field)
or be listed, with its reason, in ``kernel.secrets.UNSCANNED``, the one list.
A new field is therefore scanned from the start, or listed on purpose.

Then the fields people found open, through the real endpoints, and the MLflow
bridge's write parameters; and text that merely mentions a password passes.
"""

import json

import pytest
from django.db import transaction
from django.test import Client, override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from kernel.api import parse_data
from kernel.errors import InvalidInput
from kernel.secrets import UNSCANNED, find_secrets, secret_errors
from tests.fuzz.seed import seed

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9abcdefghijklmnop"
CREDENTIALS = "Looks like it holds credentials"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _write_serializers() -> dict[str, type[serializers.Serializer]]:
    """The input serializer of every write of the schema, by class name."""
    with override_settings(ALLOWED_HOSTS=["*"]):
        generator = SchemaGenerator()
        generator._initialise_endpoints()
        endpoints = generator._get_paths_and_endpoints()
    found = {}
    for _, _, method, view in endpoints:
        if method not in WRITES:
            continue
        body = view.schema.get_request_serializer()
        if isinstance(body, dict):  # per media type: the JSON one
            body = body.get("application/json")
        if isinstance(body, serializers.Serializer):
            body = type(body)
        if isinstance(body, type) and issubclass(body, serializers.Serializer):
            found[body.__name__] = body
    return found


WRITE_SERIALIZERS = _write_serializers()

_TEXT = (serializers.CharField, serializers.ChoiceField)
_JSON = (serializers.JSONField, serializers.DictField, serializers.ListField)


def _leaves(form: serializers.Serializer, where=()):
    """``(path, key, value)`` for every string or JSON field: the path into a
    body, the ``Serializer.field`` key of ``UNSCANNED``, and a value carrying a
    secret that the field's type can hold."""
    for name, field in form.fields.items():
        if field.read_only:
            continue
        path, key = (*where, name), f"{type(form).__name__}.{name}"
        child = getattr(field, "child", None)
        if isinstance(field, serializers.Serializer):
            yield from _leaves(field, path)
        elif isinstance(child, serializers.Serializer):
            yield from _leaves(child, (*path, 0))
        elif isinstance(field, _TEXT):
            yield path, key, f"1.0.0+{AWS_KEY}"
        elif isinstance(field, serializers.ListField):
            yield path, key, [f"note {BEARER}"]
        elif isinstance(field, _JSON):
            yield path, key, {"note": f"use {BEARER}"}


def _body(path, value):
    body = value
    for step in reversed(path):
        body = [body] if isinstance(step, int) else {step: body}
    return body


def _field_name(path) -> str:
    name = ""
    for step in path:
        name += f"[{step}]" if isinstance(step, int) else (f".{step}" if name else step)
    return name


CASES = [
    pytest.param(cls, path, key, value, id=f"{name}:{_field_name(path)}")
    for name, cls in sorted(WRITE_SERIALIZERS.items())
    for path, key, value in _leaves(cls())
]


def test_the_walk_reaches_the_fields_people_found_open():
    names = {case.id for case in CASES}
    for expected in (
        "RunCreateInput:external_run_id",
        "VersionRegisterInput:semantic_version",
        "VersionRegisterInput:run.external_run_id",
        "DatasetCreateInput:pii_columns",
        "ModelCreateInput:fairness_attributes",
        "ReproductionCreateInput:external_run_id",
    ):
        assert expected in names
    assert len(CASES) > 60


@pytest.mark.parametrize(("serializer", "path", "key", "value"), CASES)
def test_every_write_field_is_scanned_or_listed_with_a_reason(
    serializer, path, key, value
):
    if key in UNSCANNED:
        assert UNSCANNED[key].strip(), f"{key} is listed without a reason"
        return
    with pytest.raises(InvalidInput) as refused:
        parse_data(serializer, _body(path, value), scan_secrets=True)
    problems = refused.value.fields.get(_field_name(path), [])
    assert any(CREDENTIALS in problem for problem in problems), refused.value.fields


def test_the_unscanned_list_names_only_fields_that_exist():
    keys = {case.values[2] for case in CASES}
    stale = {key for key in UNSCANNED if not key.startswith("mlflow.")} - keys
    assert not stale


def test_text_that_mentions_a_password_is_no_secret():
    for text in (
        "Rotate the password every 90 days; see the password policy.",
        "Template: {{ password }} is never logged.",
        "No secret values or API keys are kept in this card.",
        "mlflow-7c1e2a",
        "2.1.0+build.7",
    ):
        assert find_secrets(text) == [], text
    assert secret_errors(f"run {AWS_KEY}")


# --- the real endpoints -------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), transaction.atomic(), fast_hashing:
        yield seed()
        transaction.set_rollback(True)


def _in_savepoint(call):
    with transaction.atomic():
        try:
            return call()
        finally:
            transaction.set_rollback(True)


def _post(world, method, url, body, scheme="Token"):
    return getattr(Client(), method)(
        url,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"{scheme} {world.tokens['data_scientist']}",
    )


def _rest_cases():
    from models_registry.api import examples

    sha = "b" * 64
    run = {**examples.RUN_CREATE, "inputs": []}
    version = {
        "artifact": {"uri": "s3://models/x/model.pkl", "sha256": sha},
        "semantic_version": "2.1.0",
        "run": run,
    }
    model = {**examples.MODEL_CREATE, "name": "secret-probe", "team": "fuzz"}
    dataset = {**examples.DATASET_CREATE, "team": "fuzz"}
    return [
        ("models/{name}/runs/", run, ("external_run_id",)),
        ("models/{name}/versions/", version, ("semantic_version",)),
        ("models/{name}/versions/", version, ("run", "external_run_id")),
        ("datasets/", dataset, ("pii_columns", 0, "legal_basis")),
        ("models/", model, ("fairness_attributes", 0)),
        ("versions/{id}/reproductions", examples.REPRODUCTION_CREATE, None),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("secret", [f"1.0.0+{AWS_KEY}", BEARER])
@pytest.mark.parametrize(
    ("route", "body", "path"),
    [pytest.param(*case, id=case[0] + str(case[2])) for case in _rest_cases()],
)
def test_the_fields_people_found_open_refuse_secrets(world, route, body, path, secret):
    from models_registry.models import ModelVersion

    url = "/api/v1/" + route.format(name=world.ids["name"], id=world.ids["versions"])
    body = json.loads(json.dumps(body))
    if path is None:  # the reproduction check's run id
        path = ("external_run_id",)
        body["artifact_sha256"] = ModelVersion.objects.get(
            pk=world.ids["versions"]
        ).artifact.sha256
    holder = body
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = secret

    response = _in_savepoint(lambda: _post(world, "post", url, body))

    assert response.status_code == 400, response.content[:400]
    fields = response.json()["fields"]
    assert any(
        CREDENTIALS in problem for problems in fields.values() for problem in problems
    ), fields


MLFLOW = "/api/2.0/mlflow/"


# Each write's parameters, "{secret}" where the credential goes.
MLFLOW_CASES = [
    ("post", "registered-models/create", {"name": "probe", "description": "{secret}"}),
    (
        "patch",
        "registered-models/update",
        {"name": "{name}", "description": "{secret}"},
    ),
    (
        "post",
        "registered-models/set-tag",
        {"name": "{name}", "key": "note", "value": "{secret}"},
    ),
    (
        "post",
        "model-versions/create",
        {"name": "{name}", "source": "s3://m/x.pkl", "run_id": "{secret}"},
    ),
    (
        "post",
        "model-versions/create",
        {"name": "{name}", "source": "s3://m/x.pkl", "run_link": "https://x/{secret}"},
    ),
    (
        "patch",
        "model-versions/update",
        {"name": "{name}", "version": "1", "description": "{secret}"},
    ),
    (
        "post",
        "model-versions/set-tag",
        {"name": "{name}", "version": "1", "key": "note", "value": "{secret}"},
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "endpoint", "params"), MLFLOW_CASES)
def test_mlflow_write_parameters_refuse_secrets(world, method, endpoint, params):
    params = {
        key: value.format(name=world.ids["name"], secret=AWS_KEY)
        for key, value in params.items()
    }
    response = _in_savepoint(
        lambda: _post(world, method, MLFLOW + endpoint, params, "Bearer")
    )
    assert response.status_code == 400, response.content[:400]
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "credentials" in body["message"], body


@pytest.mark.django_db
def test_a_monitoring_batch_id_refuses_secrets(world):
    url = (
        f"/api/v1/monitoring/models/{world.ids['name']}/environments/staging/"
        "predictions"
    )
    body = {
        "batch_id": f"scoring-{AWS_KEY}",
        "records": [{"timestamp": "2026-01-31T10:00:01Z", "prediction_id": "a1"}],
    }
    response = _in_savepoint(lambda: _post(world, "post", url, body))
    assert response.status_code == 400, response.content[:400]
    assert CREDENTIALS in response.json()["fields"]["batch_id"][0]
