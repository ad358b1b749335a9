"""Shared fixtures: persona users, and the guard that the suite runs on PostgreSQL."""

import os

import psycopg
import pytest

from kernel import roles

_HOW = (
    "Run the suite with `make test` (it sets DATABASE_URL to "
    "postgres://postgres@127.0.0.1:5432/gatehouse), or set DATABASE_URL yourself."
)


def pytest_configure(config):
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.exit(f"The test suite needs PostgreSQL. {_HOW}", returncode=3)
    # pytest-django creates the test database; reach the server's own database.
    server = psycopg.conninfo.conninfo_to_dict(url)
    server["dbname"] = "postgres"
    try:
        psycopg.connect(**server, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        pytest.exit(
            f"PostgreSQL cannot be reached at {url}: {error}\n"
            "Start it (for example `pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start`) and run the tests again.",
            returncode=3,
        )
    _flush_past_audit_triggers()


def _flush_past_audit_triggers():
    """Let transactional tests empty the database between tests.

    The audit table refuses TRUNCATE, and Django's flush truncates every table.
    Only the test suite, as a superuser, switches triggers off around its flush
    (session_replication_role = replica); the portal's runtime role cannot.
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")

    DatabaseOperations.execute_sql_flush = execute_sql_flush


@pytest.fixture(autouse=True)
def _migration_data(request):
    """Put back the rows data migrations create (environments and approval
    policies) when a transactional test's flush has emptied them. Role groups
    come back by themselves: flush sends post_migrate, which syncs them."""
    if request.node.get_closest_marker("django_db") is None:
        for name in ("transactional_db", "db"):
            if name in request.fixturenames:
                request.getfixturevalue(name)
                break
        else:
            return
    import importlib

    from django.apps import apps

    from approvals.models import Environment

    if not Environment.objects.exists():
        for module in (
            "approvals.migrations.0002_default_policies",
            "mlflow_bridge.migrations.0002_default_governed_aliases",
            "mlflow_bridge.migrations.0003_governed_aliases_per_kind_team_entry",
        ):
            importlib.import_module(module).create_defaults(apps, None)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _eager_celery():
    """Run tasks in-process unless a test asks for a real worker."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def make_user(username: str, *role_names: str, team=None, **extra):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(
        username=username, password="correct horse battery staple", **extra
    )
    groups = list(Group.objects.filter(name__in=role_names))
    if team is not None:
        groups.append(team.group)
    user.groups.add(*groups)
    return user


@pytest.fixture
def team(db):
    from django.contrib.auth.models import Group

    from kernel.models import Team

    group = Group.objects.create(name="team:credit-risk")
    return Team.objects.create(name="Credit Risk", slug="credit-risk", group=group)


@pytest.fixture
def other_team(db):
    from django.contrib.auth.models import Group

    from kernel.models import Team

    group = Group.objects.create(name="team:recommendations")
    return Team.objects.create(
        name="Recommendations", slug="recommendations", group=group
    )


@pytest.fixture
def data_scientist(db, team):
    return make_user("dana", roles.DATA_SCIENTIST, team=team)


@pytest.fixture
def reviewer(db):
    """A reviewer in no team: they see the models they are assigned to."""
    return make_user("rey", roles.REVIEWER)


@pytest.fixture
def risk_officer(db):
    return make_user("rio", roles.RISK_OFFICER)


@pytest.fixture
def validator(db):
    return make_user("val", roles.VALIDATOR)


@pytest.fixture
def auditor(db):
    return make_user("audrey", roles.AUDITOR)


@pytest.fixture
def platform_admin(db):
    return make_user("pat", roles.PLATFORM_ADMIN, is_staff=True)


@pytest.fixture
def outsider(db):
    return make_user("otto")
