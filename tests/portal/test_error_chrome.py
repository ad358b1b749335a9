"""The portal's chrome around errors: every 403 a browser can meet is the styled
page, a refusal is logged as one line without a traceback, and the quickstart's
defaults keep the console readable (e-mail to files, no broker warning)."""

import io
import logging
import logging.config
import sys

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.log import DEFAULT_LOGGING

from tests.portal.test_settings import _probe, _run

pytestmark = pytest.mark.django_db

STYLED = 'class="card error-page"'


def _is_styled_403(response) -> bool:
    body = response.content.decode()
    return (
        response.status_code == 403
        and STYLED in body
        and "Error 403" in body
        and 'rel="icon"' in body
    )


def test_a_csrf_failure_renders_the_styled_403_page(auditor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(auditor)
    response = client.post(reverse("audit:verification-run"))
    assert _is_styled_403(response), response.content.decode()
    assert "security check" in response.content.decode()


def test_a_csrf_failure_before_login_renders_the_styled_403_page():
    response = Client(enforce_csrf_checks=True).post(reverse("logout"))
    assert _is_styled_403(response)


def test_a_page_refusing_with_permission_denied_renders_the_styled_page(
    client, platform_admin
):
    client.force_login(platform_admin)
    response = client.get(reverse("admin:audit_auditevent_add"))
    assert _is_styled_403(response)


def _configure_logging(settings, stream) -> None:
    logging.config.dictConfig(DEFAULT_LOGGING)
    logging.config.dictConfig(settings.LOGGING)
    for name in ("", "django", "django.request"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(stream)


@pytest.fixture
def debug_logging(settings):
    """What the console shows with the portal's logging as a development run
    (DEBUG on) configures it."""
    settings.DEBUG = True
    console = io.StringIO()
    _configure_logging(settings, console)
    yield console
    settings.DEBUG = False
    _configure_logging(settings, sys.__stderr__)


def test_a_403_is_logged_once_without_a_traceback(
    client, platform_admin, debug_logging
):
    client.force_login(platform_admin)
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    logged = debug_logging.getvalue()
    lines = [line for line in logged.splitlines() if "Forbidden" in line]
    assert len(lines) == 1, logged
    assert "WARNING django.request Forbidden (Permission denied)" in lines[0]
    assert "Traceback" not in logged


def test_a_server_error_keeps_its_traceback(debug_logging):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("django.request").error(
            "Internal Server Error: /x", exc_info=True, extra={"status_code": 500}
        )
    assert debug_logging.getvalue().count("Traceback") == 1


def test_development_e_mail_goes_to_files_under_var():
    values = _probe(DEBUG="1")
    assert values["email"] == "django.core.mail.backends.filebased.EmailBackend"


def test_an_email_url_still_chooses_the_backend_in_development():
    values = _probe(DEBUG="1", EMAIL_URL="smtp://mail.example.com:25")
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"


def test_eager_tasks_raise_no_broker_hostname_warning():
    result = _run(
        [
            "-c",
            "import django; django.setup(); from portal.celery import app\n"
            "with app.producer_or_acquire() as producer: pass\n"
            "print('ok')",
        ],
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert "No hostname was supplied" not in result.stderr


def test_eager_tasks_do_not_log_a_line_each():
    probe = (
        "import logging, django; django.setup(); "
        "print(logging.getLogger('celery.app.trace').getEffectiveLevel())"
    )
    eager = _run(["-c", probe], DEBUG="1")
    assert eager.stdout.split()[-1] == str(logging.WARNING), eager.stderr
    worker = _run(["-c", probe], DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/9")
    assert worker.stdout.split()[-1] == str(logging.INFO), worker.stderr
