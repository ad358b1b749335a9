"""Building audit events for the tests of the auditor's pages."""

from unittest import mock

from django.contrib.auth.signals import user_logged_in

from audit.services import audit_record


def record_events(count: int, *, action: str = "test.recorded", **fields):
    """Append ``count`` events; return them oldest first."""
    fields.setdefault("actor_text", "robot")
    return [
        audit_record(actor=None, action=action, payload={"index": index}, **fields)
        for index in range(count)
    ]


def login_quietly(client, user) -> None:
    """Log the client in without the ``auth.login`` event that a login records,
    so that tests can count events from 1."""
    with mock.patch.object(user_logged_in, "send"):
        client.force_login(user)
