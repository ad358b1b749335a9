"""What `make demo` shows a newcomer: the demo people with their roles in the
last lines (and in the credentials file), e-mail kept out of the console, and a
signed audit checkpoint on the auditor's page."""

import pytest
from django.core.management import call_command

from audit.models import AuditCheckpoint, AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = {
    "dana": "Data scientist, team credit-risk",
    "sam": "Data scientist, team recommendations",
    "rey": "Reviewer",
    "rio": "Risk officer",
    "val": "Validator",
    "audrey": "Auditor",
    "pat": "Platform admin",
}


@pytest.fixture
def small_demo(monkeypatch, settings, tmp_path, signing_key_b64):
    from monitoring import demo as monitoring_demo

    monkeypatch.setattr(monitoring_demo, "HOURS", 8)
    monkeypatch.setattr(monitoring_demo, "DRIFT_HOURS", 3)
    monkeypatch.setattr(monitoring_demo, "SLOW_HOURS", 2)
    settings.VAR_DIR = tmp_path
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    return tmp_path


@pytest.fixture
def signing_key_b64(settings):
    import base64
    import os

    key = base64.b64encode(os.urandom(32)).decode("ascii")
    settings.AUDIT_SIGNING_KEY = key
    return key


def test_the_demo_ends_with_its_people_and_their_roles(small_demo, capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    lines = out.rstrip("\n").splitlines()
    start = lines.index("Demo people (username / password / role):")
    # The people, where the file is kept, and where to sign in: nothing after.
    assert len(lines) - start == 1 + len(PEOPLE) + 2
    listed = lines[start + 1 : start + 1 + len(PEOPLE)]
    for line, (username, role) in zip(listed, PEOPLE.items(), strict=True):
        name, password, described = line.split(maxsplit=2)
        assert (name, described) == (username, role)
        assert len(password) >= 12
    assert lines[-1].startswith("Sign in at ")
    assert lines[-1].endswith("/login/")

    [kept] = small_demo.glob("demo-credentials*.txt")
    for line in kept.read_text().splitlines():
        username, _, described = line.split(maxsplit=2)
        assert described == PEOPLE[username]

    # A team's service account, made by the platform admin (audited).
    from kernel.models import ServiceAccount

    account = ServiceAccount.objects.get()
    assert account.user.username == "svc-credit-risk-ci"
    assert account.team.slug == "credit-risk"
    assert account.created_by.username == "pat"
    assert "svc-credit-risk-ci (team credit-risk" in out
    assert AuditEvent.objects.filter(action="service_account.created").count() == 1

    # E-mail went to files, not to the console.
    assert "Subject:" not in out
    assert list((small_demo / "mail").iterdir())
    assert f"notifications are written to files in {small_demo / 'mail'}" in out

    # The auditor finds a signed checkpoint at the head of the chain.
    head = AuditEvent.objects.order_by("-sequence").first()
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.sequence == head.sequence
    assert f"chain signed up to event {head.sequence}" in out


def test_an_old_credentials_file_without_roles_keeps_its_passwords(small_demo, capsys):
    call_command("seed_demo")
    [kept] = small_demo.glob("demo-credentials*.txt")
    passwords = dict(line.split()[:2] for line in kept.read_text().splitlines())
    kept.write_text("".join(f"{user} {pw}\n" for user, pw in passwords.items()))
    capsys.readouterr()
    call_command("seed_demo")
    out = capsys.readouterr().out
    for username, password in passwords.items():
        assert f"  {username:<8} {password:<18} {PEOPLE[username]}" in out
