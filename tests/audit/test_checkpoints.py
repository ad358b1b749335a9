import base64
import hashlib
import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import InternalError, ProgrammingError, connection, transaction
from django.urls import reverse

from audit.canonical import format_timestamp
from audit.models import AuditCheckpoint, AuditEvent
from audit.services import audit_checkpoint_create
from audit.signing import AuditSigningKeyUnavailable, key_id, parse_private_key
from audit.tasks import audit_checkpoint_task
from tests.audit.helpers import login_quietly, record_events

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _message(checkpoint) -> bytes:
    """The documented message, written out independently of audit.signing."""
    time = checkpoint.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f'{{"hash":"{checkpoint.head_hash}",'
        '"purpose":"gatehouse-audit-checkpoint/1",'
        f'"sequence":{checkpoint.sequence},"time":"{time}"}}'
    ).encode()


def test_checkpoint_signs_the_head_over_the_documented_message(signing_key_b64):
    events = record_events(3)
    checkpoint = audit_checkpoint_create()
    checkpoint.refresh_from_db()
    assert (checkpoint.sequence, checkpoint.head_hash) == (3, events[2].hash)
    public_key = Ed25519PrivateKey.from_private_bytes(
        base64.b64decode(signing_key_b64)
    ).public_key()
    raw = public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert checkpoint.key_id == hashlib.sha256(raw).hexdigest()
    public_key.verify(base64.b64decode(checkpoint.signature), _message(checkpoint))
    # Signing is not itself an audit event: the head stays where it was.
    assert AuditEvent.objects.count() == 3


def test_no_checkpoint_until_the_head_moves(signing_key_b64):
    assert audit_checkpoint_create() is None
    record_events(2)
    first = audit_checkpoint_create()
    assert audit_checkpoint_create() is None
    record_events(1)
    second = audit_checkpoint_create()
    assert [c.sequence for c in AuditCheckpoint.objects.order_by("sequence")] == [
        first.sequence,
        second.sequence,
    ]
    assert (first.sequence, second.sequence) == (2, 3)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditcheckpoint SET head_hash = 'forged'",
        "UPDATE audit_auditcheckpoint SET signature = 'AAAA'",
        "DELETE FROM audit_auditcheckpoint",
        "TRUNCATE audit_auditcheckpoint",
    ],
)
def test_database_refuses_to_change_checkpoints(signing_key_b64, statement):
    record_events(1)
    checkpoint = audit_checkpoint_create()
    with (
        pytest.raises((ProgrammingError, InternalError), match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    stored = AuditCheckpoint.objects.get()
    assert (stored.head_hash, stored.signature) == (
        checkpoint.head_hash,
        checkpoint.signature,
    )


def test_orm_update_and_delete_of_checkpoints_are_refused(signing_key_b64):
    record_events(1)
    audit_checkpoint_create()
    with pytest.raises((ProgrammingError, InternalError)), transaction.atomic():
        AuditCheckpoint.objects.update(sequence=99)
    with pytest.raises((ProgrammingError, InternalError)), transaction.atomic():
        AuditCheckpoint.objects.all().delete()
    assert AuditCheckpoint.objects.get().sequence == 1


def test_a_pem_key_with_escaped_newlines_signs(settings):
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    settings.AUDIT_SIGNING_KEY = pem.replace("\n", "\\n")
    record_events(1)
    checkpoint = audit_checkpoint_create()
    private.public_key().verify(
        base64.b64decode(checkpoint.signature), _message(checkpoint)
    )
    assert checkpoint.key_id == key_id(private.public_key())


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "neither base64 nor a PEM"),
        (base64.b64encode(b"x" * 31).decode(), "decodes to 31 bytes"),
        ("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----", "PEM"),
    ],
)
def test_an_unusable_key_is_refused_clearly_and_nothing_is_signed(
    settings, value, message
):
    settings.AUDIT_SIGNING_KEY = value
    record_events(1)
    with pytest.raises(AuditSigningKeyUnavailable, match=message) as raised:
        audit_checkpoint_create()
    assert value not in raised.value.message
    assert AuditCheckpoint.objects.count() == 0


def test_a_pem_key_of_another_algorithm_is_refused(settings):
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1())
    settings.AUDIT_SIGNING_KEY = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(AuditSigningKeyUnavailable, match="not an Ed25519 key"):
        audit_checkpoint_create()


def test_without_a_key_in_production_checkpoints_are_refused(settings, caplog):
    settings.DEBUG = False
    settings.AUDIT_SIGNING_KEY = ""
    record_events(2)
    with pytest.raises(AuditSigningKeyUnavailable, match="set AUDIT_SIGNING_KEY"):
        audit_checkpoint_create()
    with caplog.at_level(logging.ERROR, logger="audit.tasks"):
        assert audit_checkpoint_task.delay().get() is None
    assert "audit checkpoint not signed: No audit signing key" in caplog.text
    assert AuditCheckpoint.objects.count() == 0


def test_without_a_key_the_checkpoint_page_explains_and_still_works(
    client, auditor, settings
):
    settings.DEBUG = False
    settings.AUDIT_SIGNING_KEY = ""
    login_quietly(client, auditor)
    response = client.get(reverse("audit:checkpoint-list"))
    assert response.status_code == 200
    assert "No audit signing key: set AUDIT_SIGNING_KEY" in response.content.decode()
    response = client.get(reverse("audit:checkpoint-public-key"))
    assert response.status_code == 302
    with pytest.raises(CommandError, match="No audit signing key"):
        call_command("audit_checkpoint")


def test_the_portal_starts_without_a_key_when_debug_is_off():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"AUDIT_SIGNING_KEY", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DEBUG="0", SECRET_KEY="x" * 60)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_with_debug_and_no_key_a_private_key_file_is_made_once(settings, tmp_path):
    settings.DEBUG = True
    settings.AUDIT_SIGNING_KEY = ""
    settings.VAR_DIR = tmp_path / "var"
    record_events(1)
    first = audit_checkpoint_create()
    path = tmp_path / "var" / "audit-signing-key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert first.key_id == key_id(parse_private_key(path.read_text()).public_key())
    record_events(1)
    assert audit_checkpoint_create().key_id == first.key_id
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["audit-signing-key"]


def test_the_hourly_beat_entry_runs_the_checkpoint_task(signing_key_b64):
    from portal.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["audit-checkpoint-hourly"]
    assert entry["task"] == "audit.tasks.audit_checkpoint_task"
    assert entry["schedule"].total_seconds() == 3600
    assert entry["task"] in app.tasks
    record_events(2)
    checkpoint_id = audit_checkpoint_task.delay().get()
    assert AuditCheckpoint.objects.get(pk=checkpoint_id).sequence == 2
    assert audit_checkpoint_task.delay().get() is None


def test_command_signs_now_and_prints_keys(signing_key_b64, capsys):
    call_command("audit_checkpoint")
    assert "the chain is empty or its head is signed" in capsys.readouterr().out
    record_events(1)
    call_command("audit_checkpoint")
    checkpoint = AuditCheckpoint.objects.get()
    assert f"checkpoint at event 1: {checkpoint.head_hash}" in capsys.readouterr().out
    call_command("audit_checkpoint", "--public-key")
    out = capsys.readouterr().out
    assert f"key id: {checkpoint.key_id}" in out
    assert "-----BEGIN PUBLIC KEY-----" in out
    call_command("audit_checkpoint", "--new-key")
    out = capsys.readouterr().out.splitlines()
    secret = out[0].removeprefix("AUDIT_SIGNING_KEY=")
    assert len(base64.b64decode(secret)) == 32
    assert out[1] == f"key id: {key_id(parse_private_key(secret).public_key())}"
    assert AuditCheckpoint.objects.count() == 1


def test_checkpoint_page_checks_each_signature_and_the_log(
    client, auditor, signing_key_b64, settings, django_assert_max_num_queries
):
    record_events(2)
    audit_checkpoint_create()
    record_events(2)
    audit_checkpoint_create()
    # A checkpoint from a previous key, and an event edited after signing.
    settings.AUDIT_SIGNING_KEY = base64.b64encode(os.urandom(32)).decode()
    record_events(1)
    audit_checkpoint_create()
    settings.AUDIT_SIGNING_KEY = signing_key_b64
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute("UPDATE audit_auditevent SET hash = 'x' WHERE sequence = 2")
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
    login_quietly(client, auditor)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("audit:checkpoint-list"))
    rows = response.context["page"].rows
    assert [
        (row.checkpoint.sequence, row.signature_is_valid, row.matches_log)
        for row in rows
    ] == [(5, None, True), (4, True, True), (2, True, False)]
    body = response.content.decode()
    assert "INVALID" not in body
    assert '<strong class="error">NO</strong>' in body


def test_a_forged_signature_shows_as_invalid(client, auditor, signing_key_b64):
    record_events(1)
    checkpoint = audit_checkpoint_create()
    forged = base64.b64encode(b"\0" * 64).decode()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditcheckpoint DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE audit_auditcheckpoint SET signature = %s WHERE id = %s",
            [forged, checkpoint.pk],
        )
        cursor.execute("ALTER TABLE audit_auditcheckpoint ENABLE TRIGGER USER")
    login_quietly(client, auditor)
    response = client.get(reverse("audit:checkpoint-list"))
    assert response.context["page"].rows[0].signature_is_valid is False
    assert "INVALID" in response.content.decode()


def test_checkpoint_list_pages_by_keyset(client, auditor, signing_key_b64):
    for _ in range(55):
        record_events(1)
        audit_checkpoint_create()
    login_quietly(client, auditor)
    first = client.get(reverse("audit:checkpoint-list"))
    assert [row.checkpoint.sequence for row in first.context["page"].rows] == list(
        range(55, 5, -1)
    )
    assert first.context["older_url"] == f"{reverse('audit:checkpoint-list')}?before=6"
    second = client.get(first.context["older_url"])
    assert [row.checkpoint.sequence for row in second.context["page"].rows] == [
        5,
        4,
        3,
        2,
        1,
    ]
    assert second.context["older_url"] is None
    bad = client.get(reverse("audit:checkpoint-list"), {"before": "soon"})
    assert bad.status_code == 400
    assert bad.context["page"] is None


def test_the_export_carries_the_signed_time_exactly(signing_key_b64):
    record_events(1)
    checkpoint = audit_checkpoint_create()
    stored = AuditCheckpoint.objects.get()
    assert format_timestamp(stored.created_at) == format_timestamp(
        checkpoint.created_at
    )
    assert json.loads(_message(stored))["time"] == format_timestamp(stored.created_at)
