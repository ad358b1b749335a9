import csv
import io
import json

import pytest
from django.urls import reverse

from audit.canonical import format_timestamp
from audit.models import AuditEvent
from audit.selectors import (
    EXPORT_COLUMNS,
    AuditEventFilters,
    audit_event_export_rows,
)
from audit.services import audit_checkpoint_create, audit_record
from tests.audit.helpers import login_quietly, record_events

pytestmark = pytest.mark.django_db

CSV = reverse("audit:event-export-csv")


@pytest.fixture
def auditor_client(client, auditor):
    login_quietly(client, auditor)
    return client


def _download(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


def _csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_download(response))))


def test_csv_export_holds_every_matching_event_with_every_column(
    auditor_client, data_scientist
):
    first = audit_record(
        actor=data_scientist,
        action="token.created",
        target=data_scientist,
        payload={"name": "ci «β»", "n": 1.5},
    )
    audit_record(actor=None, action="team.created", payload={})
    response = auditor_client.get(CSV, {"action": "token."})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="audit-events-to-2.csv"'
    )
    rows = _csv_rows(response)
    assert rows == [
        {
            "sequence": "1",
            "timestamp": first.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actor_id": str(data_scientist.pk),
            "actor_text": "dana",
            "actor_ip": "",
            "request_id": "",
            "action": "token.created",
            "target_type": "auth.user",
            "target_id": str(data_scientist.pk),
            "target_text": "dana",
            "scope": "",
            "payload_json": '{"n":1.5,"name":"ci «β»"}',
            "prev_hash": first.prev_hash,
            "hash": first.hash,
        }
    ]
    assert list(rows[0]) == list(EXPORT_COLUMNS)


def test_csv_export_streams_all_rows_past_one_chunk(auditor_client):
    record_events(2100)
    response = auditor_client.get(CSV)
    rows = _csv_rows(response)
    assert [int(row["sequence"]) for row in rows] == list(range(1, 2101))


def test_export_reads_in_keyset_chunks(auditor):
    record_events(7)
    record_events(3, action="other.thing")
    rows = list(
        audit_event_export_rows(
            actor=auditor,
            filters=AuditEventFilters(action="test.recorded"),
            up_to=10,
            chunk_size=3,
        )
    )
    assert [row[0] for row in rows] == [1, 2, 3, 4, 5, 6, 7]


def test_csv_export_is_recorded_with_its_filters_and_head(auditor_client, auditor):
    record_events(4)
    response = auditor_client.get(
        CSV, {"actor": "robot", "action": "test.", "date_from": "2000-01-01"}
    )
    rows = _csv_rows(response)
    assert len(rows) == 4
    event = AuditEvent.objects.get(action="audit.exported")
    assert event.sequence == 5
    assert (event.actor_id, event.actor_text) == (auditor.pk, "audrey")
    assert event.payload == {
        "format": "csv",
        "filters": {
            "actor": "robot",
            "action": "test.",
            "since": "2000-01-01T00:00:00.000000Z",
        },
        "head_sequence": 4,
    }
    # The export's own event is not in the export.
    assert [row["action"] for row in rows] == ["test.recorded"] * 4


def test_csv_export_defuses_spreadsheet_formulas(auditor_client):
    audit_record(actor=None, actor_text='=HYPERLINK("x")', action="auth.login_failed")
    audit_record(actor=None, actor_text="+1", action="x.y", target_text="@SUM(A1)")
    rows = _csv_rows(auditor_client.get(CSV))
    assert rows[0]["actor_text"] == '\'=HYPERLINK("x")'
    assert (rows[1]["actor_text"], rows[1]["target_text"]) == ("'+1", "'@SUM(A1)")


def test_csv_export_with_bad_filters_is_400_and_not_recorded(auditor_client):
    record_events(2)
    response = auditor_client.get(CSV, {"date_to": "31/12/2026"})
    assert response.status_code == 400
    assert "Not a date" in response.content.decode()
    assert AuditEvent.objects.count() == 2


def test_list_page_offers_the_export_with_the_filters(auditor_client):
    record_events(1)
    body = auditor_client.get(
        reverse("audit:event-list"), {"action": "test.", "before": "9"}
    ).content.decode()
    assert f'href="{CSV}?action=test."' in body


# --- Checkpoint exports -----------------------------------------------------------


def test_checkpoint_export_lists_every_checkpoint_and_is_recorded(
    auditor_client, signing_key_b64
):
    record_events(2)
    first = audit_checkpoint_create()
    record_events(3)
    second = audit_checkpoint_create()
    response = auditor_client.get(reverse("audit:checkpoint-export"))
    document = json.loads(_download(response))
    assert document == {
        "format": "gatehouse-audit-checkpoints/1",
        "head_sequence_at_export": 5,
        "checkpoints": [
            {
                "sequence": checkpoint.sequence,
                "hash": checkpoint.head_hash,
                "time": format_timestamp(checkpoint.created_at),
                "key_id": checkpoint.key_id,
                "signature": checkpoint.signature,
            }
            for checkpoint in (first, second)
        ],
    }
    event = AuditEvent.objects.get(action="audit.exported")
    assert event.payload == {"format": "checkpoints", "head_sequence": 5}


def test_public_key_download_is_the_signing_keys_pem(auditor_client, signing_key_b64):
    from audit.signing import parse_private_key, public_key_pem

    response = auditor_client.get(reverse("audit:checkpoint-public-key"))
    assert response.status_code == 200
    expected = public_key_pem(parse_private_key(signing_key_b64).public_key())
    assert response.content.decode() == expected
    assert expected.startswith("-----BEGIN PUBLIC KEY-----")


def test_range_export_holds_the_events_between_two_checkpoints(
    auditor_client, signing_key_b64
):
    events = record_events(3)
    audit_checkpoint_create()
    events += record_events(4)
    audit_checkpoint_create()
    response = auditor_client.get(
        reverse("audit:checkpoint-range-export"),
        {"from_sequence": 3, "to_sequence": 7},
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="audit-events-3-7.jsonl"'
    )
    lines = [json.loads(line) for line in _download(response).splitlines()]
    assert [line["sequence"] for line in lines] == [4, 5, 6, 7]
    assert lines[0] == {
        "sequence": 4,
        "timestamp": format_timestamp(events[3].timestamp),
        "actor_id": None,
        "actor_text": "robot",
        "actor_ip": None,
        "request_id": "",
        "action": "test.recorded",
        "target_type": "",
        "target_id": "",
        "target_text": "",
        "scope": "",
        "payload_json": '{"index":0}',
        "prev_hash": events[2].hash,
        "hash": events[3].hash,
    }
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.payload == {
        "format": "event-range",
        "from_sequence": 3,
        "to_sequence": 7,
        "head_sequence": 7,
    }


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from_sequence": 3, "to_sequence": 4}, "to_sequence", "no checkpoint at 4"),
        ({"from_sequence": 2, "to_sequence": 3}, "from_sequence", "no checkpoint at 2"),
        ({"from_sequence": 3, "to_sequence": 3}, "to_sequence", "after the first"),
        ({"from_sequence": "x", "to_sequence": 3}, "from_sequence", "whole number"),
        ({"to_sequence": 3}, "from_sequence", "required"),
        ({"from_sequence": -1, "to_sequence": 3}, "from_sequence", "greater than"),
    ],
)
def test_range_export_refuses_bad_ranges_with_a_form_error(
    auditor_client, signing_key_b64, query, field, message
):
    record_events(3)
    audit_checkpoint_create()
    response = auditor_client.get(reverse("audit:checkpoint-range-export"), query)
    assert response.status_code == 400
    assert message in " ".join(response.context["range_form"].errors[field])
    assert AuditEvent.objects.count() == 3
