"""The REST API fuzzed from its own OpenAPI schema (issue #13): no 5xx, for any role.

Schemathesis reads `/api/schema/` through the WSGI application (no server) and
calls every operation as a data scientist, a reviewer, an auditor and a platform
admin, each with a personal API token. Every answer must not be a server error
and must match the schema (status code, content type, headers, body). The seed
is fixed and generation is derandomized, so a run replays the same requests;
`FUZZ_EXAMPLES` raises the number of examples per operation (docs/security.md).
"""

import os

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import HealthCheck
from schemathesis.config import SchemathesisConfig

from portal.wsgi import application
from tests.fuzz.seed import seed

SEED = 13
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
STATEFUL_SCENARIOS = int(os.environ.get("FUZZ_STATEFUL_SCENARIOS", "8"))
PHASES = os.environ.get("FUZZ_PHASES", "examples,fuzzing").split(",")
PERSONAS = ("data_scientist", "reviewer", "auditor", "platform_admin")

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": True,
            # Nothing written under .hypothesis/: the seed is the whole memory.
            "database": "none",
        },
        # The schema's own examples, then random (valid and invalid) data. The
        # coverage phase (boundary values of every parameter, thousands of
        # cases) is for runs by hand: FUZZ_PHASES=examples,fuzzing,coverage.
        # The stateful phase stays on: without it no links are inferred for
        # the stateful test below (pytest runs that one only where asked).
        "phases": {
            **{
                phase: {"enabled": phase in PHASES}
                for phase in ("examples", "fuzzing", "coverage")
            },
            "stateful": {"enabled": True},
        },
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
        },
    }
)

# The ingestion endpoints also read Parquet: send them the fuzzed bytes as is.
schemathesis.serializer.alias(
    "application/vnd.apache.parquet", "application/octet-stream"
)

# The schema is loaded once per process, at collection: the schema view needs no
# database, and Django refuses the WSGI client's Host until the tests allow it.
with override_settings(ALLOWED_HOSTS=["localhost"]):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Seed once per module and worker, in a transaction rolled back at the end.

    Each test runs in a savepoint inside it (the `db` fixture), so what one
    test's requests write is gone before the next one starts.
    """
    fast_hashing = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
    )
    with django_db_blocker.unblock(), transaction.atomic(), fast_hashing:
        yield seed()
        transaction.set_rollback(True)


@pytest.fixture
def _wsgi_in_test_transaction():
    """Let requests through the WSGI handler share the test's transaction.

    The handler closes "old" connections when a request starts and finishes;
    inside the test's transaction that marks it for rollback. Django's own test
    client disconnects the same receiver for the same reason.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _allow_the_wsgi_clients_host(settings):
    settings.ALLOWED_HOSTS = ["localhost"]


def _aim_at_real_objects(case, ids):
    """Point a valid case's path at the seeded records; invalid ones stay fuzzed."""
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    collection = case.path.strip("/").split("/")[2]
    for parameter in case.path_parameters or {}:
        if parameter == "id":
            if collection in ids:
                case.path_parameters["id"] = ids[collection]
        elif parameter in ids:
            case.path_parameters[parameter] = ids[parameter]


def _trace(case, response):
    """With FUZZ_TRACE=<file>, append each call and its status, to see the mix."""
    if path := os.environ.get("FUZZ_TRACE"):
        with open(path, "a") as trace:
            trace.write(f"{case.method} {case.formatted_path} {response.status_code}\n")


@pytest.mark.usefixtures("_wsgi_in_test_transaction")
@pytest.mark.parametrize("persona", PERSONAS)
@schema.parametrize()
# The examples of one test share its transaction on purpose: what they write is
# rolled back as a whole at the test's end (see `world`).
@hypothesis.settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_operation_answers_a_server_error_or_off_schema(case, persona, world, db):
    _aim_at_real_objects(case, world.ids)
    response = case.call_and_validate(
        headers={"Authorization": f"Token {world.tokens[persona]}"}
    )
    _trace(case, response)


@pytest.mark.usefixtures("_wsgi_in_test_transaction", "db")
@pytest.mark.parametrize("persona", PERSONAS)
def test_sequences_of_calls_answer_no_server_error_or_off_schema(persona, world):
    """Stateful: chains of calls that feed one answer's ids into the next call.

    The schema has no OpenAPI links; schemathesis infers them from the shapes of
    requests and answers (a created dataset's `id` to `GET /datasets/{id}/`...).
    """
    token = world.tokens[persona]

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Token {token}"}}

        def after_call(self, response, case):
            _trace(case, response)

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
