"""Signing a checkpoint now, from the checkpoints page: auditors and platform
admins may (recorded, and the checkpoint signs that record); nobody else may,
and a refusal changes nothing. Verification times read as people say them."""

import base64
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditCheckpoint, AuditEvent, ChainVerification
from audit.selectors import checkpoint_signed_message
from audit.signing import signing_key
from kernel.templatetags.durations import human_duration
from tests.audit.helpers import login_quietly, record_events

pytestmark = pytest.mark.django_db

ALLOWED = ["auditor", "platform_admin"]
DENIED = ["data_scientist", "reviewer", "risk_officer", "validator", "outsider"]


def _state():
    return AuditEvent.objects.count(), AuditCheckpoint.objects.count()


@pytest.mark.parametrize("persona", ALLOWED)
def test_auditors_and_admins_sign_a_checkpoint_that_covers_their_request(
    request, client, signing_key_b64, persona
):
    record_events(3)
    user = request.getfixturevalue(persona)
    login_quietly(client, user)
    response = client.post(reverse("audit:checkpoint-take"), follow=True)
    assert response.redirect_chain == [(reverse("audit:checkpoint-list"), 302)]
    assert "Signed a checkpoint at event 4" in response.content.decode()
    event = AuditEvent.objects.get(sequence=4)
    assert (event.action, event.actor_id) == ("audit.checkpoint_taken", user.pk)
    [checkpoint] = AuditCheckpoint.objects.all()
    assert (checkpoint.sequence, checkpoint.head_hash) == (4, event.hash)
    public_key = signing_key().public_key()
    public_key.verify(
        base64.b64decode(checkpoint.signature),
        checkpoint_signed_message(checkpoint),
    )


@pytest.mark.parametrize("persona", DENIED)
def test_everyone_else_gets_not_found_and_nothing_is_signed(
    request, client, signing_key_b64, persona
):
    record_events(3)
    login_quietly(client, request.getfixturevalue(persona))
    before = _state()
    assert client.post(reverse("audit:checkpoint-take")).status_code == 404
    assert _state() == before


def test_signing_needs_post(client, auditor, signing_key_b64):
    record_events(1)
    login_quietly(client, auditor)
    assert client.get(reverse("audit:checkpoint-take")).status_code == 405
    assert AuditCheckpoint.objects.count() == 0


def test_without_a_key_nothing_is_recorded_and_the_page_says_why(
    client, auditor, settings
):
    settings.AUDIT_SIGNING_KEY = ""
    settings.DEBUG = False
    record_events(2)
    login_quietly(client, auditor)
    before = _state()
    response = client.post(reverse("audit:checkpoint-take"), follow=True)
    assert "No checkpoint was signed. No audit signing key" in (
        response.content.decode()
    )
    assert _state() == before


def test_the_button_is_shown_to_auditors(client, auditor, signing_key_b64):
    login_quietly(client, auditor)
    body = client.get(reverse("audit:checkpoint-list")).content.decode()
    assert reverse("audit:checkpoint-take") in body
    assert "Sign a checkpoint now" in body


def test_the_hourly_task_adds_nothing_after_a_checkpoint_taken_now(
    client, auditor, signing_key_b64
):
    from audit.services import audit_checkpoint_create

    record_events(2)
    login_quietly(client, auditor)
    client.post(reverse("audit:checkpoint-take"))
    assert audit_checkpoint_create() is None
    assert AuditCheckpoint.objects.count() == 1


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0.2, "under a second"),
        (1.1, "1 second"),
        (42, "42 seconds"),
        (60, "1 min"),
        (125, "2 min 5 s"),
        (3600, "1 h"),
        (3840, "1 h 4 min"),
    ],
)
def test_durations_read_as_people_say_them(seconds, said):
    assert human_duration(timedelta(seconds=seconds)) == said


def test_a_one_second_verification_does_not_take_zero_minutes(client, auditor):
    finished = timezone.now()
    ChainVerification.objects.create(
        started_at=finished - timedelta(seconds=1),
        finished_at=finished,
        event_count=3,
        head_sequence=None,
        head_hash="",
        is_intact=True,
        first_broken_sequence=None,
        problem="",
    )
    login_quietly(client, auditor)
    body = client.get(reverse("audit:verification-list")).content.decode()
    assert "<td>1 second</td>" in body
    assert "0 minutes" not in body
