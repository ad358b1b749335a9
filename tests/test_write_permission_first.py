"""Permission first, everywhere (issue #14 item 4).

Every mutating route of the REST API (each POST/PUT/PATCH/DELETE operation of
the OpenAPI schema, and the schema is checked to hold every one the URL conf
routes) and every write of the MLflow bridge gets a malformed body from an
auditor and from a user with neither role nor team. Each answers 403, or 404
where the object in the path is one the caller may not see, never 400 with
field errors about input they could not have sent anyway; and no table gains
or loses a row.
"""

import json

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.views import APIView

from approvals.models import Deployment
from monitoring.models import Alert, MonitoringTarget
from portal.services import api_token_create
from tests.conftest import make_user
from tests.fuzz.seed import seed

WRITES = ("post", "put", "patch", "delete")
MALFORMED = {
    "empty object": "{}",
    "not an object": "[1, 2]",
    "not JSON": "{not json",
    "wrong types": json.dumps({"name": ["x"], "version": {}, "comment": 7}),
}


def _schema_operations():
    with override_settings(ALLOWED_HOSTS=["*"]):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method, path)
        for path, methods in schema["paths"].items()
        for method in methods
        if method in WRITES and path.startswith("/api/v1/")
    )


def _routed_writes(resolver=None, prefix=""):
    """``(method, route)`` of every DRF view under /api/v1/ with a write handler,
    walked from the URL conf, routes spelled as the schema spells paths."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routed_writes(entry, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
            view = getattr(entry.callback, "view_class", None)
            if view is None or not issubclass(view, APIView):
                continue
            path = "/" + route
            for converter in ("int", "slug", "str"):
                path = path.replace(f"<{converter}:", "{")
            path = path.replace(">", "}")
            for method in WRITES:
                if hasattr(view, method):
                    yield method, path


SCHEMA_OPERATIONS = _schema_operations()


def test_the_schema_holds_every_routed_write():
    assert set(_routed_writes()) <= set(SCHEMA_OPERATIONS)
    assert len(SCHEMA_OPERATIONS) >= 20


# --- the world ----------------------------------------------------------------


def _monitoring_alert(world):
    """An open alert on the seeded live deployment, for the alert routes."""
    live = Deployment.objects.get(pk=world.ids["deployments"])
    target = MonitoringTarget.objects.create(
        model=live.model, version=live.version, environment=live.environment
    )
    alert = Alert.objects.create(
        target=target,
        kind="data_drift",
        subject="income",
        severity="high",
        title="Drift on income",
        first_window_start=live.started_at,
        last_window_start=live.started_at,
    )
    return alert.pk


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Seed once per module, in a transaction rolled back at the end."""
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), transaction.atomic(), fast_hashing:
        world = seed()
        nobody = make_user("nobody")  # neither role nor team
        world.tokens["nobody"] = api_token_create(user=nobody, name="x")[1]
        world.ids["alerts"] = _monitoring_alert(world)
        yield world
        transaction.set_rollback(True)


def _url(path, ids):
    parts = path.split("/")
    filled = []
    for index, part in enumerate(parts):
        if part.startswith("{"):
            name = part[1:-1]
            # Routes whose objects the seed has not made get an unknown id:
            # the refusal must come before the lookup all the same.
            key = parts[index - 1] if name == "id" else name
            part = str(ids.get(key, 999_999))
        filled.append(part)
    return "/".join(filled)


def _counts():
    tables = sorted(
        model._meta.db_table
        for config in apps.get_app_configs()
        for model in config.get_models()
        if model._meta.managed and not model._meta.proxy
    )
    sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


def _in_savepoint(call):
    with transaction.atomic():
        try:
            return call()
        finally:
            transaction.set_rollback(True)


def _send(method, url, body, token, scheme="Token"):
    return getattr(Client(), method)(
        url,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"{scheme} {token}",
    )


# Auditors see every object, so theirs is always a 403; the user without a role
# or team sees none, so an object in the path may answer 404 instead.
EXPECTED = {"auditor": {403}, "nobody": {403, 404}}


@pytest.mark.parametrize("persona", EXPECTED)
@pytest.mark.parametrize(("method", "path"), SCHEMA_OPERATIONS)
def test_rest_writes_refuse_before_reading_the_body(method, path, persona, world, db):
    url = _url(path, world.ids)
    for label, body in MALFORMED.items():

        def case(body=body):
            before = _counts()
            response = _send(method, url, body, world.tokens[persona])
            assert _counts() == before
            return response

        response = _in_savepoint(case)
        assert response.status_code in EXPECTED[persona], (
            label,
            response.status_code,
            response.content[:300],
        )
        assert response.json()["fields"] == {}, label


# --- MLflow -------------------------------------------------------------------

MLFLOW = "/api/2.0/mlflow/"
MLFLOW_WRITES = (
    ("post", "registered-models/create"),
    ("patch", "registered-models/update"),
    ("post", "registered-models/rename"),
    ("delete", "registered-models/delete"),
    ("post", "registered-models/set-tag"),
    ("delete", "registered-models/delete-tag"),
    ("post", "registered-models/alias"),
    ("delete", "registered-models/alias"),
    ("post", "model-versions/create"),
    ("patch", "model-versions/update"),
    ("delete", "model-versions/delete"),
    ("post", "model-versions/transition-stage"),
    ("post", "model-versions/set-tag"),
    ("delete", "model-versions/delete-tag"),
)


def test_mlflow_write_list_is_complete():
    from mlflow_bridge import urls

    routed = {str(pattern.pattern) for pattern in urls.urlpatterns}
    reads = {
        "registered-models/get",
        "registered-models/search",
        "registered-models/get-latest-versions",
        "model-versions/get",
        "model-versions/search",
        "model-versions/get-download-uri",
        "^.*$",
    }
    assert routed - reads == {endpoint for _, endpoint in MLFLOW_WRITES}


@pytest.mark.parametrize("persona", EXPECTED)
@pytest.mark.parametrize(("method", "endpoint"), MLFLOW_WRITES)
def test_mlflow_writes_refuse_before_reading_the_body(
    method, endpoint, persona, world, db
):
    name, version = world.ids["name"], str(world.ids["number"])
    bodies = {
        **MALFORMED,
        "wrong types for a real object": json.dumps(
            {"name": name, "version": version, "key": 7, "tags": "x", "alias": []}
        ),
    }
    for label, body in bodies.items():

        def case(body=body):
            before = _counts()
            response = _send(method, MLFLOW + endpoint, body, world.tokens[persona])
            assert _counts() == before
            return response

        response = _in_savepoint(case)
        assert response.status_code in EXPECTED[persona], (
            label,
            response.status_code,
            response.content[:300],
        )
        assert response.json()["error_code"] in (
            "PERMISSION_DENIED",
            "RESOURCE_DOES_NOT_EXIST",
        ), label
