import json
import threading

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import (
    IntegrityError,
    InternalError,
    ProgrammingError,
    connection,
    transaction,
)

from audit.canonical import GENESIS_HASH
from audit.context import audit_context
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_record

pytestmark = pytest.mark.django_db


def _append(count, **kwargs):
    for index in range(count):
        audit_record(
            actor=None,
            actor_text="test",
            action="test.appended",
            payload={"index": index, "score": index / 7},
            **kwargs,
        )


def test_thousand_appends_form_an_intact_chain():
    _append(1000)
    report = audit_chain_verify()
    assert report.is_intact, report.problem
    assert report.event_count == 1000
    first, last = (
        AuditEvent.objects.order_by("sequence")[:1].get(),
        AuditEvent.objects.last(),
    )
    assert first.sequence == 1
    assert first.prev_hash == GENESIS_HASH
    assert last.sequence == 1000
    assert report.head_hash == last.hash


def test_event_records_actor_request_and_target(data_scientist):
    with audit_context(request_id="req-1", ip="192.0.2.10"):
        event = audit_record(
            actor=data_scientist,
            action="team.viewed",
            target=data_scientist,
            payload={"why": "test"},
        )
    event.refresh_from_db()
    assert (event.actor_id, event.actor_text) == (data_scientist.pk, "dana")
    assert (event.request_id, event.actor_ip) == ("req-1", "192.0.2.10")
    assert (event.target_type, event.target_id, event.target_text) == (
        "auth.user",
        str(data_scientist.pk),
        "dana",
    )
    assert event.payload == {"why": "test"}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'forged' WHERE sequence = 1",
        "DELETE FROM audit_auditevent WHERE sequence = 1",
        "TRUNCATE audit_auditevent",
    ],
)
def test_database_refuses_changes_through_raw_sql(statement):
    _append(2)
    with (
        pytest.raises((ProgrammingError, InternalError), match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert (
        list(AuditEvent.objects.values_list("action", flat=True))
        == ["test.appended"] * 2
    )


def test_orm_update_and_delete_are_refused():
    _append(1)
    with pytest.raises((ProgrammingError, InternalError)), transaction.atomic():
        AuditEvent.objects.update(action="forged")
    with pytest.raises((ProgrammingError, InternalError)), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().action == "test.appended"


def _as_owner_without_triggers(statement, params):
    """Do what a table owner could: switch the triggers off and edit a row."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(statement, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def test_verify_finds_an_edited_payload_at_its_event(capsys):
    _append(50)
    _as_owner_without_triggers(
        "UPDATE audit_auditevent SET payload_json = %s WHERE sequence = %s",
        [json.dumps({"index": 999}), 17],
    )
    report = audit_chain_verify()
    assert (report.is_intact, report.first_broken_sequence) == (False, 17)
    assert "does not match its hash" in report.problem
    with pytest.raises(CommandError, match="broken at event 17"):
        call_command("audit_verify")
    out = capsys.readouterr().out
    assert "events:     50" in out
    assert "first broken link: event 17" in out


def test_verify_finds_a_deleted_event_as_a_gap():
    _append(10)
    _as_owner_without_triggers("DELETE FROM audit_auditevent WHERE sequence = %s", [4])
    report = audit_chain_verify()
    assert report.first_broken_sequence == 5
    assert "gap" in report.problem


def test_verify_finds_a_rewritten_tail():
    """Recomputing one event's hash does not help: the next link breaks."""
    _append(10)
    from audit.canonical import chain_hash

    _as_owner_without_triggers(
        "UPDATE audit_auditevent SET hash = %s WHERE sequence = %s",
        [chain_hash("x", "y"), 6],
    )
    report = audit_chain_verify()
    assert report.first_broken_sequence == 6


def test_audit_verify_command_reports_an_intact_chain(capsys):
    _append(3)
    call_command("audit_verify")
    out = capsys.readouterr().out
    head = AuditEvent.objects.last()
    assert "events:     3" in out
    assert head.hash in out
    assert "chain intact" in out


def _service_that_fails_after_recording():
    with transaction.atomic():
        Group.objects.create(name="temporary")
        audit_record(actor=None, action="group.created", payload={"name": "temporary"})
        raise RuntimeError("the service failed after recording")


def test_business_change_and_event_roll_back_together():
    with pytest.raises(RuntimeError):
        _service_that_fails_after_recording()
    assert not Group.objects.filter(name="temporary").exists()
    assert not AuditEvent.objects.filter(action="group.created").exists()
    # and the chain continues without a gap afterwards
    _append(1)
    assert AuditEvent.objects.get().sequence == 1


def test_non_json_payload_is_refused_and_nothing_written():
    from audit.errors import AuditPayloadInvalid

    with pytest.raises(AuditPayloadInvalid):
        audit_record(actor=None, action="x.y", payload={"auc": float("nan")})
    assert AuditEvent.objects.count() == 0


def test_sequence_is_unique_in_the_database():
    _append(1)
    event = AuditEvent.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.create(
            sequence=1, timestamp=event.timestamp, action="x", prev_hash="0", hash="1"
        )


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_writers_give_a_gapless_unforked_chain():
    writers, per_writer = 8, 40
    barrier = threading.Barrier(writers)
    errors = []

    def write(writer):
        try:
            barrier.wait()
            for index in range(per_writer):
                audit_record(
                    actor=None,
                    actor_text=f"writer-{writer}",
                    action="test.concurrent",
                    payload={"writer": writer, "index": index},
                )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    events = list(
        AuditEvent.objects.order_by("sequence").values_list(
            "sequence", "prev_hash", "hash"
        )
    )
    assert [sequence for sequence, _, _ in events] == list(
        range(1, writers * per_writer + 1)
    )
    # unforked: every prev_hash is used exactly once, by the next event
    assert [prev for _, prev, _ in events[1:]] == [
        digest for _, _, digest in events[:-1]
    ]
    assert len({prev for _, prev, _ in events}) == len(events)
    # every writer interleaved with the others rather than running alone
    writers_in_first_half = {
        json.loads(text)["writer"]
        for text in AuditEvent.objects.order_by("sequence").values_list(
            "payload_json", flat=True
        )[: len(events) // 2]
    }
    assert len(writers_in_first_half) > 1
    assert audit_chain_verify().is_intact
