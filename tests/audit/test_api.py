import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_checkpoint_create
from tests.audit.helpers import login_quietly, record_events

pytestmark = pytest.mark.django_db

EVENTS = reverse("api-audit-events")
CHECKPOINTS = reverse("api-audit-checkpoints")


@pytest.fixture
def auditor_api(client, auditor):
    login_quietly(client, auditor)
    return client


def test_events_are_listed_by_keyset_with_filters(client, auditor):
    record_events(60, action="token.created")
    record_events(5, action="team.created")
    client.force_login(auditor)  # records auth.login as event 66
    body = client.get(EVENTS, {"action": "token."}).json()
    assert [event["sequence"] for event in body["events"]] == list(range(60, 10, -1))
    assert (body["older_before"], body["newer_after"]) == (11, None)
    assert set(body["events"][0]) == {
        "sequence",
        "timestamp",
        "actor_text",
        "action",
        "target_type",
        "target_id",
        "target_text",
        "model",
    }
    older = client.get(EVENTS, {"action": "token.", "before": 11}).json()
    assert [event["sequence"] for event in older["events"]] == list(range(10, 0, -1))
    assert (older["older_before"], older["newer_after"]) == (None, 10)


def test_event_detail_has_payload_and_hashes(auditor_api):
    events = record_events(3)
    body = auditor_api.get(reverse("api-audit-event", args=[2])).json()
    assert body["event"]["payload"] == {"index": 1}
    assert body["event"]["payload_json"] == '{"index":1}'
    assert (body["event"]["hash"], body["event"]["prev_hash"]) == (
        events[1].hash,
        events[0].hash,
    )
    assert (body["previous_sequence"], body["next_sequence"]) == (1, 3)
    assert body["hash_recomputes"] is True


def test_bad_filters_are_a_400_with_field_errors(auditor_api):
    response = auditor_api.get(EVENTS, {"date_from": "soon", "before": "x"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"date_from", "before"}
    response = auditor_api.get(EVENTS, {"before": 3, "after": 1})
    assert response.json()["fields"] == {
        "non_field_errors": ["Give “before” or “after”, not both."]
    }
    response = auditor_api.get(CHECKPOINTS, {"before": "soon"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"before"}


def test_checkpoints_are_listed_with_their_checks(auditor_api, signing_key_b64):
    record_events(2)
    checkpoint = audit_checkpoint_create()
    body = auditor_api.get(CHECKPOINTS).json()
    assert body["older_before"] is None
    assert body["checkpoints"] == [
        {
            "sequence": 2,
            "hash": checkpoint.head_hash,
            "time": checkpoint.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "key_id": checkpoint.key_id,
            "signature": checkpoint.signature,
            "signature_is_valid": True,
            "matches_log": True,
        }
    ]


@pytest.mark.parametrize(
    "persona", ["data_scientist", "reviewer", "risk_officer", "validator", "outsider"]
)
@pytest.mark.parametrize(
    ("name", "args", "query"),
    [
        ("api-audit-events", [], {}),
        ("api-audit-events", [], {"date_from": "bad"}),
        ("api-audit-event", [1], {}),
        ("api-audit-checkpoints", [], {}),
        ("api-audit-checkpoints", [], {"before": "bad"}),
    ],
)
def test_others_get_404_from_the_api(request, client, persona, name, args, query):
    record_events(1)
    client.force_login(request.getfixturevalue(persona))
    before = AuditEvent.objects.count()
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert AuditEvent.objects.count() == before


def test_anonymous_api_callers_get_401_or_403(client):
    assert client.get(EVENTS).status_code in {401, 403}


def test_the_api_is_in_the_openapi_schema(auditor_api):
    schema = auditor_api.get(reverse("api-schema"), {"format": "json"}).json()
    assert {"/api/v1/audit/events/", "/api/v1/audit/checkpoints/"} <= set(
        schema["paths"]
    )


def test_the_schema_documents_the_404_that_hides_the_api(auditor_api):
    """Found by the schema fuzzing (tests/fuzz): a 404 the schema did not list."""
    paths = auditor_api.get(reverse("api-schema"), {"format": "json"}).json()["paths"]
    for path in (
        "/api/v1/audit/events/",
        "/api/v1/audit/events/{sequence}/",
        "/api/v1/audit/checkpoints/",
    ):
        responses = paths[path]["get"]["responses"]
        assert {"200", "400", "404"} <= set(responses), path
