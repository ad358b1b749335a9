"""Who may open which audit page: auditors and platform admins; others get 404."""

import pytest
from django.urls import reverse

from audit.models import AuditCheckpoint, AuditEvent, ChainVerification
from audit.services import audit_checkpoint_create
from tests.audit.helpers import login_quietly, record_events

pytestmark = pytest.mark.django_db

GET_PAGES = [
    ("audit:event-list", [], {}),
    ("audit:event-list", [], {"action": "token.", "before": "3"}),
    ("audit:event-detail", [2], {}),
    ("audit:event-export-csv", [], {}),
    ("audit:verification-list", [], {}),
    ("audit:checkpoint-list", [], {}),
    ("audit:checkpoint-public-key", [], {}),
    ("audit:checkpoint-export", [], {}),
    ("audit:checkpoint-range-export", [], {"from_sequence": 0, "to_sequence": 3}),
]
ALLOWED = ["auditor", "platform_admin"]
DENIED = ["data_scientist", "reviewer", "risk_officer", "validator", "outsider"]


@pytest.fixture
def audit_log(signing_key_b64):
    record_events(3)
    return audit_checkpoint_create()


def _state():
    return (
        AuditEvent.objects.count(),
        ChainVerification.objects.count(),
        AuditCheckpoint.objects.count(),
    )


def _get(client, name, args, query):
    response = client.get(reverse(name, args=args), query)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return response


@pytest.mark.parametrize("persona", ALLOWED)
@pytest.mark.parametrize(("name", "args", "query"), GET_PAGES)
def test_auditors_and_platform_admins_open_every_page(
    request, client, audit_log, persona, name, args, query
):
    login_quietly(client, request.getfixturevalue(persona))
    assert _get(client, name, args, query).status_code == 200


@pytest.mark.parametrize("persona", DENIED)
@pytest.mark.parametrize(("name", "args", "query"), GET_PAGES)
def test_everyone_else_gets_not_found_and_nothing_is_recorded(
    request, client, audit_log, persona, name, args, query
):
    login_quietly(client, request.getfixturevalue(persona))
    before = _state()
    assert _get(client, name, args, query).status_code == 404
    assert _state() == before


@pytest.mark.parametrize("persona", DENIED)
def test_everyone_else_cannot_bad_filter_their_way_to_a_400(
    request, client, audit_log, persona
):
    login_quietly(client, request.getfixturevalue(persona))
    for name in ("audit:event-list", "audit:event-export-csv"):
        response = client.get(reverse(name), {"date_from": "nonsense"})
        assert response.status_code == 404
    response = client.get(
        reverse("audit:checkpoint-range-export"), {"from_sequence": "x"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("persona", DENIED)
def test_everyone_else_cannot_run_a_verification(
    request, client, audit_log, persona, django_capture_on_commit_callbacks
):
    login_quietly(client, request.getfixturevalue(persona))
    before = _state()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("audit:verification-run"))
    assert response.status_code == 404
    assert callbacks == []
    assert _state() == before


@pytest.mark.parametrize(("name", "args", "query"), GET_PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(
    client, audit_log, name, args, query
):
    before = _state()
    url = reverse(name, args=args)
    response = client.get(url, query)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('login')}?next=")
    assert _state() == before


def test_anonymous_visitors_cannot_run_a_verification(client, audit_log):
    before = _state()
    response = client.post(reverse("audit:verification-run"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert _state() == before


@pytest.mark.parametrize("name", ["audit:verification-run"])
def test_the_verify_button_refuses_get(client, auditor, name):
    login_quietly(client, auditor)
    assert client.get(reverse(name)).status_code == 405
    assert ChainVerification.objects.count() == 0
