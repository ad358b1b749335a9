"""The audit downloads with an API token (a scripted quarterly export): the
same files as the pages, recorded the same way; auditors and platform admins
only; a bad query is a 400 that records nothing."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_checkpoint_create
from portal.services import api_token_create
from tests.audit.helpers import record_events

pytestmark = pytest.mark.django_db

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_audit_export.py"
DENIED = ["data_scientist", "reviewer", "risk_officer", "validator", "outsider"]
DOWNLOADS = [
    ("api-audit-events-csv", {}),
    ("api-audit-checkpoints-export", {}),
    ("api-audit-events-range", {"from_sequence": 0, "to_sequence": 3}),
    ("api-audit-public-key", {}),
]


def _token_client(user) -> Client:
    _, plaintext = api_token_create(user=user, name="quarterly export")
    return Client(HTTP_AUTHORIZATION=f"Token {plaintext}")


def _body(response) -> bytes:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def signed_log(signing_key_b64):
    record_events(3)
    audit_checkpoint_create()
    record_events(2)
    audit_checkpoint_create()


def test_an_auditor_scripts_the_quarterly_export_and_it_verifies(
    auditor, signed_log, tmp_path
):
    api = _token_client(auditor)
    events_before = AuditEvent.objects.count()
    key = api.get(reverse("api-audit-public-key"))
    assert key.status_code == 200
    assert key["Content-Type"] == "application/x-pem-file"
    (tmp_path / "key.pem").write_bytes(_body(key))
    checkpoints = api.get(reverse("api-audit-checkpoints-export"))
    assert checkpoints.status_code == 200
    (tmp_path / "checkpoints.json").write_bytes(_body(checkpoints))
    document = json.loads((tmp_path / "checkpoints.json").read_text())
    assert sorted(item["sequence"] for item in document["checkpoints"]) == [3, 5]
    events = api.get(
        reverse("api-audit-events-range"), {"from_sequence": 3, "to_sequence": 5}
    )
    assert events.status_code == 200
    assert events["Content-Type"].startswith("application/x-ndjson")
    (tmp_path / "events.jsonl").write_bytes(_body(events))
    csv = api.get(reverse("api-audit-events-csv"), {"action": "test."})
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    lines = _body(csv).decode().splitlines()
    assert lines[0].startswith("sequence,")
    assert len(lines) == 1 + 5

    # Each download is an audit event, as in the browser.
    exported = AuditEvent.objects.filter(
        sequence__gt=events_before, action="audit.exported"
    ).order_by("sequence")
    assert [event.payload["format"] for event in exported] == [
        "checkpoints",
        "event-range",
        "csv",
    ]
    assert {event.payload["via"] for event in exported} == {"api"}

    result = subprocess.run(
        [
            sys.executable,
            "-I",
            str(SCRIPT),
            "--public-key",
            str(tmp_path / "key.pem"),
            "--checkpoints",
            str(tmp_path / "checkpoints.json"),
            "--from",
            "3",
            "--to",
            "5",
            "--events",
            str(tmp_path / "events.jsonl"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("VERIFIED: 2 events (4 to 5)")


@pytest.mark.parametrize(("name", "query"), DOWNLOADS)
def test_a_platform_admin_may_download_too(platform_admin, signed_log, name, query):
    response = _token_client(platform_admin).get(reverse(name), query)
    assert response.status_code == 200
    _body(response)


@pytest.mark.parametrize("persona", DENIED)
@pytest.mark.parametrize(("name", "query"), DOWNLOADS)
def test_everyone_else_gets_not_found_and_nothing_is_recorded(
    request, signed_log, persona, name, query
):
    api = _token_client(request.getfixturevalue(persona))
    before = AuditEvent.objects.count()
    response = api.get(reverse(name), query)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from_sequence": 3, "to_sequence": 4}, "to_sequence"),
        ({"from_sequence": "x", "to_sequence": 5}, "from_sequence"),
        ({"to_sequence": 5}, "from_sequence"),
    ],
)
def test_a_bad_range_is_a_400_that_records_nothing(auditor, signed_log, query, field):
    api = _token_client(auditor)
    before = AuditEvent.objects.count()
    response = api.get(reverse("api-audit-events-range"), query)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert AuditEvent.objects.count() == before


def test_a_bad_filter_is_a_400_that_records_nothing(auditor, signed_log):
    api = _token_client(auditor)
    before = AuditEvent.objects.count()
    response = api.get(reverse("api-audit-events-csv"), {"date_from": "yesterday"})
    assert response.status_code == 400
    assert "date_from" in response.json()["fields"]
    assert AuditEvent.objects.count() == before


def test_without_a_key_there_is_no_public_key(auditor, settings):
    settings.AUDIT_SIGNING_KEY = ""
    settings.DEBUG = False
    response = _token_client(auditor).get(reverse("api-audit-public-key"))
    assert response.status_code == 404
    assert response.json()["code"] == "audit_signing_key_unavailable"


def test_the_downloads_are_in_the_api_schema(client, auditor):
    client.force_login(auditor)
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    paths = schema["paths"]
    assert (
        "text/csv"
        in (paths["/api/v1/audit/events.csv"]["get"]["responses"]["200"]["content"])
    )
    assert "/api/v1/audit/checkpoints.json" in paths
    assert "/api/v1/audit/events.jsonl" in paths
    assert "/api/v1/audit/public-key.pem" in paths
    assert "/api/v1/reports/models/{name}/" in paths
    assert "/api/v1/reports/models/{name}/versions/{number}/" in paths
