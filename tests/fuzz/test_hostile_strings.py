"""Hostile strings in every text field of every mutating operation (issue #13).

NUL, a lone surrogate, a 1 MB string, an RTL override, zero-width characters,
SQL and template syntax go, one at a time, into each string of each POST/PUT/
PATCH operation's request-body example in the OpenAPI schema (REST), and into
each string parameter of the MLflow bridge's writes. Every answer is a 2xx, or
a 400 with a JSON error body (404 or 409 where the string names an object that
is not there or clashes with one); never a 5xx. A refusal changes nothing (no
table gains or loses a row, the audit log included), and a template or script
string that was accepted is shown escaped on the object's pages.

Each request runs in its own savepoint, rolled back, so cases do not interact.
"""

import json
import os

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from tests.fuzz.seed import seed
from tests.mlflow_bridge.conftest import sha_tags

NUL = "a\x00b"
SURROGATE = "\ud800"
MEGABYTE = "x" * 2**20
SCRIPT = "<script>alert(1)</script>"
TEMPLATE = "{{ 7|add:7 }}{% debug %}" + SCRIPT
HOSTILE = {
    "nul": NUL,
    "surrogate": SURROGATE,
    "rtl": "\u202eevil",
    "zero-width": "a\u200bb\u200d",
    "sql": "'; DROP TABLE audit_auditevent; --",
    "template": TEMPLATE,
}


# --- the REST operations, from the schema --------------------------------


def _rest_operations():
    with override_settings(ALLOWED_HOSTS=["*"]):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method not in ("post", "put", "patch") or "/api/v1/" not in path:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            examples = content.get("application/json", {}).get("examples") or {}
            if examples:
                body = next(iter(examples.values()))["value"]
                operations.append(
                    pytest.param(method, path, body, id=f"{method} {path}")
                )
    return operations


REST_OPERATIONS = _rest_operations()


def _leaves(value, at=()):
    """The paths (tuples of keys and indexes) of every string in a JSON value."""
    if isinstance(value, str):
        yield at
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*at, index))


def _replaced(value, at, new):
    if not at:
        return new
    copy = json.loads(json.dumps(value))
    holder = copy
    for step in at[:-1]:
        holder = holder[step]
    holder[at[-1]] = new
    return copy


# Who may perform an operation: the first of these the example is accepted for.
_PERSONAS_BY_PATH = (
    ("/decisions", ("reviewer", "risk_officer")),
    ("/validations", ("validator",)),
    ("/findings/", ("validator", "data_scientist")),
    ("/risk-class", ("risk_officer", "platform_admin")),
    ("/rollback", ("data_scientist", "platform_admin")),
)
_FALLBACK = ("data_scientist", "platform_admin", "reviewer", "validator")


def _candidates(path):
    for fragment, personas in _PERSONAS_BY_PATH:
        if fragment in path:
            return (*personas, *_FALLBACK)
    return _FALLBACK


def _url(path, ids):
    collection = path.strip("/").split("/")[2]
    parts = []
    for part in path.split("/"):
        if part.startswith("{"):
            name = part[1:-1]
            if name == "name" and path.endswith("/llm-app-versions"):
                name = "llm_app"
            part = str(ids[collection] if name == "id" else ids[name])
        parts.append(part)
    return "/".join(parts)


def _fit_to_world(method, path, body, world):
    """Point the example's references, at any depth, at the seeded records."""
    references = {
        "team": "fuzz",
        "model": world.ids["name"],
        "version": world.ids["number"],
        "dataset": world.ids["datasets"],
        "snapshot": world.ids["datasets"],
        "owner": world.cast.author.username,
        # Production has a pending request for the version already.
        "environment": "staging",
    }

    def fit(value):
        if isinstance(value, list):
            return [fit(item) for item in value]
        if not isinstance(value, dict):
            return value
        return {
            key: references[key]
            if key in references and not isinstance(item, dict | list)
            else fit(item)
            for key, item in value.items()
            # A card edit from no revision: the seeded card's revision varies.
            if key != "base_revision"
        }

    body = fit(body)
    if path == "/api/v1/models/":
        body["name"] = "hostile-model"
    # The ingestion endpoints share the predictions example; give labels and
    # metrics rows of their own layout.
    row = {"timestamp": "2026-01-31T10:00:01Z"}
    if path.endswith("/labels"):
        body["records"] = [{**row, "prediction_id": "a1f3", "label": "default"}]
    if path.endswith("/metrics"):
        body["records"] = [{**row, "name": "approval_rate", "value": 0.4}]
    if path.endswith("/profiles"):
        body = _profile_document(world)
    if path.endswith("/llm-app-versions"):
        body["prompts"] = [{"name": world.ids["prompt"], "version": 1}]
        body["index_snapshot"] = world.ids["datasets"]
    return body


def _profile_document(world) -> dict:
    """Window profiles of two predictions, made on a reference of the seeded
    version (uploaded here) by the client library, as a client would."""
    from datetime import UTC, datetime, timedelta

    import pyarrow as pa
    from gatehouse_client.profile import profile_table, profiles_document

    from monitoring.services.ingestion import reference_upload
    from monitoring.services.profiles import profile_spec_get

    actor = world.people["data_scientist"]
    sample = [
        {"income": 1000.0 * i, "region": ("north", "south")[i % 2]} for i in range(50)
    ]
    reference_upload(
        actor=actor,
        model_name=world.ids["name"],
        version_number=world.ids["number"],
        body=json.dumps({"records": sample}).encode(),
        content_type="application/json",
    )
    spec = profile_spec_get(
        actor=actor, model_name=world.ids["name"], environment_name="staging"
    )
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    table = pa.table(
        {
            "timestamp": pa.array(
                [hour - timedelta(hours=2)] * 2, pa.timestamp("us", tz="UTC")
            ),
            "income": [5000.0, 12000.0],
            "region": ["north", "east"],
        }
    )
    windows = profile_table(table, spec)
    return profiles_document(windows, batch_id="fuzz-profiles", spec=spec)


# --- counting rows, checking pages ------------------------------------------


def _counts_sql():
    tables = sorted(
        model._meta.db_table
        for config in apps.get_app_configs()
        for model in config.get_models()
        if model._meta.managed and not model._meta.proxy
    )
    counts = ", ".join(f'(SELECT count(*) FROM "{table}")' for table in tables)
    return tables, f"SELECT {counts}"


def _counts():
    tables, sql = _counts_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Seed once per module and worker, in a transaction rolled back at the end."""
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), transaction.atomic(), fast_hashing:
        yield seed()
        transaction.set_rollback(True)


@pytest.fixture
def browser(world, db):
    client = Client()
    client.force_login(world.people["platform_admin"])
    return client


def _pages(world, extra=()):
    name, number = world.ids["name"], world.ids["number"]
    return (
        reverse("registry:model-detail", args=[name]),
        reverse("registry:version-detail", args=[name, number]),
        reverse("approvals:request-detail", args=[world.ids["requests"]]),
        *extra,
    )


def _assert_shown_escaped(browser, pages):
    for page in pages:
        response = browser.get(page)
        assert response.status_code == 200, page
        assert SCRIPT.encode() not in response.content, page


def _assert_refused_or_accepted(response, before, after_counts, api="rest"):
    status = response.status_code
    assert status < 500, response.content[:500]
    if 200 <= status < 300:
        return True
    # Refused: 400, or 404/409 where the string names an object that is not
    # there or clashes with one; always with a JSON error body.
    assert status in (400, 404, 409), (status, response.content[:500])
    body = response.json()
    if api == "mlflow":
        assert "error_code" in body, body
        if status == 400:
            assert body["error_code"] == "INVALID_PARAMETER_VALUE", body
    changed = {
        table: (before[table], count)
        for table, count in after_counts().items()
        if count != before[table]
    }
    assert not changed, f"a 400 changed rows: {changed}"
    return False


def _trace(operation, persona, statuses):
    """With HOSTILE_TRACE=1 (and -s), print each operation's mix of answers."""
    if os.environ.get("HOSTILE_TRACE"):
        mix = {status: statuses.count(status) for status in sorted(set(statuses))}
        print(f"\n{operation} as {persona}: {len(statuses)} requests, {mix}")


# --- REST ---------------------------------------------------------------------


def _send(client, method, url, body, token, scheme="Token"):
    return getattr(client, method)(
        url,
        json.dumps(body, ensure_ascii=True),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"{scheme} {token}",
    )


def _in_savepoint(call):
    with transaction.atomic():
        try:
            return call()
        finally:
            transaction.set_rollback(True)


def _persona_for(client, method, url, path, body, world):
    """The first persona the untouched example is accepted for (else the first)."""
    candidates = _candidates(path)
    for persona in candidates:
        response = _in_savepoint(
            lambda p=persona: _send(client, method, url, body, world.tokens[p])
        )
        if 200 <= response.status_code < 300:
            return persona, True
    return candidates[0], False


@pytest.mark.parametrize(("method", "path", "example"), REST_OPERATIONS)
def test_rest_hostile_strings_answer_400_or_are_accepted(
    method, path, example, world, db, browser
):
    client = Client()
    url = _url(path, world.ids)
    body = _fit_to_world(method, path, example, world)
    persona, example_accepted = _persona_for(client, method, url, path, body, world)
    # The untouched example is accepted, so hostile strings reach the writes
    # (a rollback needs an earlier deployment, which the seed has not).
    assert example_accepted == (path != "/api/v1/deployments/{id}/rollback")
    token = world.tokens[persona]
    leaves = list(_leaves(body))
    cases = [(at, value) for at in leaves for value in HOSTILE.values()]
    cases += [(leaves[0], MEGABYTE)] if leaves else []
    extra_pages = ()
    if path == "/api/v1/models/":
        extra_pages = (reverse("registry:model-detail", args=["hostile-model"]),)

    statuses = []
    for at, value in cases:

        def case(at=at, value=value):
            before = _counts()
            response = _send(client, method, url, _replaced(body, at, value), token)
            accepted = _assert_refused_or_accepted(response, before, _counts)
            if accepted and value == TEMPLATE:
                _assert_shown_escaped(browser, _pages(world, extra_pages))
            return response.status_code

        statuses.append(_in_savepoint(case))
    _trace(f"{method} {path}", persona, statuses)


# --- MLflow -------------------------------------------------------------------

MLFLOW = "/api/2.0/mlflow/"


def _mlflow_operations(world):
    name, version = world.ids["name"], str(world.ids["number"])
    sha = sha_tags("hostile")
    return {
        "registered-models/create": (
            "post",
            {
                "name": "hostile-mlflow",
                "description": "A model.",
                "tags": [{"key": "owner", "value": "dana"}],
            },
        ),
        "registered-models/update": (
            "patch",
            {"name": name, "description": "New words."},
        ),
        "registered-models/set-tag": (
            "post",
            {"name": name, "key": "note", "value": "a value"},
        ),
        "model-versions/create": (
            "post",
            {
                "name": name,
                "source": "s3://models/hostile/model.pkl",
                "description": "A version.",
                "run_link": "https://mlflow.example.com/run/1",
                "tags": [{"key": k, "value": v} for k, v in sha.items()]
                + [{"key": "note", "value": "a value"}],
            },
        ),
        "model-versions/update": (
            "patch",
            {"name": name, "version": version, "description": "New words."},
        ),
        "model-versions/set-tag": (
            "post",
            {"name": name, "version": version, "key": "note", "value": "a value"},
        ),
        "registered-models/alias": (
            "post",
            {"name": name, "alias": "champion-candidate", "version": version},
        ),
    }


MLFLOW_OPERATIONS = (
    "registered-models/create",
    "registered-models/update",
    "registered-models/set-tag",
    "model-versions/create",
    "model-versions/update",
    "model-versions/set-tag",
    "registered-models/alias",
)


@pytest.mark.parametrize("endpoint", MLFLOW_OPERATIONS)
def test_mlflow_hostile_strings_answer_400_or_are_accepted(
    endpoint, world, db, browser
):
    client = Client()
    method, body = _mlflow_operations(world)[endpoint]
    token = world.tokens["data_scientist"]
    leaves = list(_leaves(body))
    cases = [(at, value) for at in leaves for value in HOSTILE.values()]
    cases += [(leaves[-1], MEGABYTE)]
    example = _in_savepoint(
        lambda: _send(client, method, MLFLOW + endpoint, body, token, "Bearer")
    )
    assert example.status_code == 200, example.content

    statuses = []
    for at, value in cases:

        def case(at=at, value=value):
            before = _counts()
            hostile = _replaced(body, at, value)
            response = _send(
                client, method, MLFLOW + endpoint, hostile, token, "Bearer"
            )
            accepted = _assert_refused_or_accepted(
                response, before, _counts, api="mlflow"
            )
            if accepted and value == TEMPLATE:
                _assert_shown_escaped(browser, _pages(world))
            return response.status_code

        statuses.append(_in_savepoint(case))
    _trace(endpoint, "data_scientist", statuses)
