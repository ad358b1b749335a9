"""Local passwords: on by default; LOCAL_LOGIN=0 leaves only a break-glass
superuser, whose every sign-in is an audit event and a warning in the log."""

import base64
import logging

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def _login(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def test_local_login_is_on_by_default(client, data_scientist):
    page = client.get(reverse("login")).content.decode()
    assert 'name="password"' in page
    assert "Emergency administrator sign-in" not in page
    assert _login(client, "dana").status_code == 302
    assert not AuditEvent.objects.filter(action="auth.break_glass_login").exists()


def test_local_login_off_refuses_people(client, settings, data_scientist):
    settings.LOCAL_LOGIN = False
    answer = _login(client, "dana")
    assert answer.status_code == 200
    assert "did not match" in answer.content.decode()
    assert client.get("/api/v1/me/").status_code in (401, 403)
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_local_login_off_refuses_mlflow_passwords_too(client, settings, data_scientist):
    settings.LOCAL_LOGIN = False
    basic = base64.b64encode(f"dana:{PASSWORD}".encode()).decode()
    answer = client.get(
        "/api/2.0/mlflow/registered-models/search",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert answer.status_code == 401


def test_break_glass_superuser_is_audited_loudly(client, settings, caplog):
    settings.LOCAL_LOGIN = False
    make_user("root", is_superuser=True, is_staff=True)
    with caplog.at_level(logging.WARNING, logger="identity.sso"):
        answer = _login(client, "root")
    assert answer.status_code == 302
    (event,) = AuditEvent.objects.filter(action="auth.break_glass_login")
    assert event.actor_text == "root"
    assert '"local_login":false' in event.payload_json
    assert any("BREAK-GLASS" in record.message for record in caplog.records)


def test_local_login_off_shows_the_break_glass_form_folded(client, settings):
    settings.LOCAL_LOGIN = False
    page = client.get(reverse("login")).content.decode()
    assert "Emergency administrator sign-in" in page
    assert "<details" in page
