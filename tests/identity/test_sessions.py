"""Sessions end after SESSION_IDLE_TIMEOUT_MINUTES without a request."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from identity.models import UserSession

pytestmark = pytest.mark.django_db

START = datetime(2031, 5, 6, 9, 0, tzinfo=UTC)


def test_an_idle_session_ends(client, settings, data_scientist):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 15
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(data_scientist)
        assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=14))
        assert client.get("/").status_code == 200  # activity: the clock restarts
        clock.shift(timedelta(minutes=14))
        assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=16))
        answer = client.get("/")
        assert answer.status_code == 302
        assert answer["Location"].startswith("/login/")
        login_page = client.get(answer["Location"]).content.decode()
        assert "signed out after 15 minutes without activity" in login_page


def test_zero_switches_the_idle_timeout_off(client, settings, data_scientist):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 0
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(data_scientist)
        clock.shift(timedelta(hours=3))
        assert client.get("/").status_code == 200


def test_a_session_is_remembered_and_a_sign_out_writes_nothing_here(
    client, data_scientist
):
    client.force_login(data_scientist)
    assert UserSession.objects.filter(user=data_scientist).count() == 1
    client.post("/logout/")
    assert UserSession.objects.filter(user=data_scientist).count() == 1


def test_a_session_without_the_clock_is_not_written_to_start_it(client, data_scientist):
    from unittest import mock

    from django.contrib.auth.signals import user_logged_in
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with mock.patch.object(user_logged_in, "send"):
        client.force_login(data_scientist)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert not [q for q in queries if "UPDATE" in q["sql"]]


def test_signing_in_over_another_session_costs_the_next_page_no_write(
    client, data_scientist, auditor
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(data_scientist)
    client.get("/")
    client.force_login(auditor)  # flushes the first person's session
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    writes = [q["sql"] for q in queries if "UPDATE" in q["sql"]]
    assert writes == []
    assert UserSession.objects.filter(user=auditor).count() == 1
