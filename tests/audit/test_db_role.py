"""The portal's runtime role can append and read audit events and checkpoints,
and nothing more."""

import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.models import AuditEvent
from audit.services import audit_record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def runtime_role():
    role = f"gh_app_{uuid.uuid4().hex[:8]}"
    call_command("audit_db_role", role=role, password="app-password", stdout=None)
    settings_dict = connection.settings_dict
    runtime = psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        dbname=settings_dict["NAME"],
        user=role,
        password="app-password",
        autocommit=True,
    )
    yield runtime
    runtime.close()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{role}"')
        cursor.execute(f'DROP ROLE "{role}"')


def _refused(runtime, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
        runtime.execute(statement)
    return str(caught.value)


def test_runtime_role_reads_and_appends(runtime_role):
    audit_record(actor=None, action="test.first")
    count = runtime_role.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0]
    assert count == 1
    with runtime_role.transaction():
        runtime_role.execute("SELECT pg_advisory_xact_lock(1)")
        runtime_role.execute(
            "INSERT INTO audit_auditevent (sequence, timestamp, actor_text, "
            "request_id, action, target_type, target_id, target_text, payload_json, "
            "scope, prev_hash, hash) "
            "VALUES (2, now(), 'app', '', 'test.second', '', '', '', '{}', '', "
            "'p', 'h')"
        )
    assert AuditEvent.objects.count() == 2
    # and it may still write the portal's other tables
    runtime_role.execute("UPDATE auth_group SET name = name")


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ("UPDATE audit_auditevent SET action = 'forged'", "permission denied"),
        ("DELETE FROM audit_auditevent", "permission denied"),
        ("TRUNCATE audit_auditevent", "permission denied"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER USER", "must be owner"),
        ("ALTER TABLE audit_auditevent DISABLE TRIGGER ALL", "must be owner"),
        (
            "DROP TRIGGER audit_event_refuse_update_delete ON audit_auditevent",
            "must be owner",
        ),
        ("SET session_replication_role = replica", "permission denied"),
        ("UPDATE audit_auditcheckpoint SET head_hash = 'forged'", "permission denied"),
        ("DELETE FROM audit_auditcheckpoint", "permission denied"),
        ("TRUNCATE audit_auditcheckpoint", "permission denied"),
    ],
)
def test_runtime_role_cannot_change_events_or_switch_triggers_off(
    runtime_role, statement, reason
):
    audit_record(actor=None, action="test.kept", payload={"n": 1})
    message = _refused(runtime_role, statement)
    assert reason in message
    event = AuditEvent.objects.get()
    assert (event.action, event.payload) == ("test.kept", {"n": 1})


def test_command_refuses_the_owner_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="must not be the role that owns"):
        call_command("audit_db_role", role=owner)
