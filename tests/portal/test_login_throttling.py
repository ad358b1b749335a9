"""Login throttling and lockout (django-axes) on the login page, MLflow's Basic
auth and API tokens; failed logins in the audit log, bounded; unlocking."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import authenticate
from django.test import RequestFactory
from django.urls import reverse

from audit.models import AuditEvent
from kernel.errors import PermissionDenied
from kernel.throttling import API_TOKEN_USERNAME
from portal.login_failures import login_failure_windows_close, login_lockout_release
from portal.services import api_token_create

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
START = datetime(2031, 3, 4, 10, 0, 5, tzinfo=UTC)
MLFLOW = "/api/2.0/mlflow/registered-models/search"
ME = "/api/v1/me/"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _login(client, password, username="dana", ip="192.0.2.10"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def _fail_quickly(times, username="dana", ip="192.0.2.10"):
    """Failures through ``authenticate``, as the login page, MLflow and the
    admin call it, without rendering a page each time (the suite stays fast)."""
    factory = RequestFactory()
    for _ in range(times):
        request = factory.post("/login/", REMOTE_ADDR=ip)
        assert authenticate(request, username=username, password="wrong") is None


def _actions():
    return list(
        AuditEvent.objects.order_by("sequence").values_list("action", flat=True)
    )


def _basic(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def test_login_page_locks_after_ten_failures_even_for_the_right_password(
    client, data_scientist, clock
):
    for _ in range(9):
        response = _login(client, "wrong")
        assert response.status_code == 200
        assert "did not match" in response.content.decode()
    response = _login(client, "wrong")
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Too many failed sign-ins" in response.content.decode()
    assert "in about 15 minutes" in response.content.decode()

    response = _login(client, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session

    clock.shift(timedelta(minutes=14))
    response = _login(client, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"  # refused attempts do not extend it

    clock.shift(timedelta(minutes=1, seconds=1))
    response = _login(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(data_scientist.pk)


def test_a_username_is_locked_from_every_address_and_others_are_not(
    client, data_scientist, reviewer, clock
):
    for number in range(10):
        _login(client, "wrong", ip=f"198.51.100.{number}")
    assert _login(client, PASSWORD, ip="203.0.113.99").status_code == 429
    # Another account from an address that failed: not locked.
    response = _login(client, PASSWORD, username="rey", ip="198.51.100.9")
    assert response.status_code == 302


def test_mlflow_basic_auth_is_throttled_in_mlflow_format(client, data_scientist, clock):
    for _ in range(9):
        response = client.get(MLFLOW, HTTP_AUTHORIZATION=_basic("dana", "wrong"))
        assert response.status_code == 401
    response = client.get(MLFLOW, HTTP_AUTHORIZATION=_basic("dana", "wrong"))
    assert response.status_code == 429
    assert response.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert response["Retry-After"] == "900"
    response = client.get(MLFLOW, HTTP_AUTHORIZATION=_basic("dana", PASSWORD))
    assert response.status_code == 429
    # The login page shares the lock.
    assert _login(client, PASSWORD, ip="127.0.0.1").status_code == 429

    clock.shift(timedelta(minutes=15, seconds=1))
    response = client.get(MLFLOW, HTTP_AUTHORIZATION=_basic("dana", PASSWORD))
    assert response.status_code == 200


def test_bad_api_tokens_from_one_address_are_throttled(client, data_scientist, clock):
    _, good = api_token_create(user=data_scientist, name="ci")
    bad = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for _ in range(9):
        response = client.get(ME, HTTP_AUTHORIZATION=f"Token {bad}")
        assert response.status_code == 401
    response = client.get(ME, HTTP_AUTHORIZATION=f"Token {bad}")
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    body = response.json()
    assert (body["code"], body["fields"]) == ("too_many_failures", {})
    assert "Too many failed authentication attempts" in body["message"]
    # Garbage is refused the same way; MLflow clients in MLflow's format.
    assert client.get(ME, HTTP_AUTHORIZATION="Token nonsense").status_code == 429
    response = client.get(MLFLOW, HTTP_AUTHORIZATION=f"Bearer {bad}")
    assert response.status_code == 429
    assert response.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    # A real token still works from there, and guesses from elsewhere are 401.
    assert client.get(ME, HTTP_AUTHORIZATION=f"Token {good}").status_code == 200
    response = client.get(
        ME, HTTP_AUTHORIZATION=f"Token {bad}", REMOTE_ADDR="203.0.113.5"
    )
    assert response.status_code == 401
    # No account is locked by token guessing.
    assert _login(client, PASSWORD).status_code == 302

    clock.shift(timedelta(minutes=15, seconds=1))
    assert client.get(ME, HTTP_AUTHORIZATION=f"Token {bad}").status_code == 401


def test_a_hundred_failures_make_three_audit_events(client, data_scientist, clock):
    for _ in range(10):
        _login(client, "wrong")
    _fail_quickly(90)
    assert _actions() == ["auth.login_failed", "auth.locked_out"]
    first, locked = AuditEvent.objects.order_by("sequence")
    assert first.actor_text == "dana"
    assert first.actor_ip == "192.0.2.10"
    assert first.payload["count"] == 1
    assert locked.payload["failures"] == 10
    assert "wrong" not in first.payload_json + locked.payload_json

    clock.shift(timedelta(minutes=16))
    assert login_failure_windows_close() == 1
    summary = AuditEvent.objects.order_by("sequence").last()
    assert summary.action == "auth.login_failed"
    assert summary.payload == {
        "username": "dana",
        "ip": "192.0.2.10",
        "count": 100,
        "summary": True,
        "window_start": "2031-03-04T10:00:00+00:00",
        "window_end": "2031-03-04T10:15:00+00:00",
    }
    assert login_failure_windows_close() == 0
    assert AuditEvent.objects.count() == 3


def test_many_usernames_cost_at_most_the_windows_budget(client, settings, clock):
    settings.LOGIN_FAILURE_AUDIT_KEYS_PER_WINDOW = 5
    for number in range(100):
        _fail_quickly(1, username=f"nobody{number}")
    assert _actions() == ["auth.login_failed"] * 5
    clock.shift(timedelta(minutes=16))
    # The next failure closes the window before it is counted in its own.
    _login(client, "wrong", username="late")
    events = list(AuditEvent.objects.order_by("sequence"))
    assert len(events) == 7
    overflow = events[5]
    assert overflow.actor_text == "(many usernames)"
    assert overflow.payload["overflow"] is True
    assert (overflow.payload["count"], overflow.payload["pairs"]) == (95, 95)
    assert events[6].payload["username"] == "late"


def _unlock(client, attempt_ids):
    return client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "unlock", "_selected_action": attempt_ids},
    )


def test_a_platform_admin_unlocks_and_is_named(
    client, data_scientist, platform_admin, clock
):
    for number in range(10):
        _login(client, "wrong", ip=f"198.51.100.{number % 2}")
    assert _login(client, PASSWORD).status_code == 429
    one = AccessAttempt.objects.filter(username="dana").first()
    client.force_login(platform_admin)
    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "Unlock the selected usernames" in listing.content.decode()

    response = _unlock(client, [one.pk])
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="dana").exists()
    unlocked = AuditEvent.objects.filter(action="auth.unlocked").order_by("sequence")
    assert [(e.actor_id, e.payload["username"]) for e in unlocked] == [
        (platform_admin.pk, "dana"),
        (platform_admin.pk, "dana"),
    ]
    client.logout()
    assert _login(client, PASSWORD).status_code == 302


@pytest.mark.parametrize("persona", ["auditor", "reviewer", "data_scientist"])
def test_others_cannot_unlock_and_nothing_changes(request, client, persona, clock):
    user = request.getfixturevalue(persona)
    user.is_staff = True
    user.save()
    for _ in range(10):
        _login(client, "wrong", username="victim")
    attempts = list(AccessAttempt.objects.values_list("pk", "failures_since_start"))
    events = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied):
        login_lockout_release(actor=user, attempt_ids=[pk for pk, _ in attempts])
    client.force_login(user)
    response = _unlock(client, [pk for pk, _ in attempts])
    assert response.status_code in {200, 403}

    assert list(AccessAttempt.objects.values_list("pk", "failures_since_start")) == (
        attempts
    )
    # Only the admin's force_login above was recorded.
    assert AuditEvent.objects.count() == events + 1
    assert not AuditEvent.objects.filter(action="auth.unlocked").exists()


def test_token_guessing_is_unlocked_per_address(client, platform_admin, clock):
    for ip in ("192.0.2.1", "192.0.2.2"):
        for _ in range(10):
            client.get(ME, HTTP_AUTHORIZATION="Token nonsense", REMOTE_ADDR=ip)
    first = AccessAttempt.objects.get(
        username=API_TOKEN_USERNAME, ip_address="192.0.2.1"
    )
    assert login_lockout_release(actor=platform_admin, attempt_ids=[first.pk]) == 1
    remaining = AccessAttempt.objects.values_list("ip_address", flat=True)
    assert list(remaining) == ["192.0.2.2"]
