"""Settings are read from the environment; each case runs in a fresh interpreter."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'name': str(s.DATABASES['default']['NAME']), 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'broker': s.CELERY_BROKER_URL, 'hosts': s.ALLOWED_HOSTS, 'debug': s.DEBUG, "
    "'email': s.EMAIL_BACKEND, 'ssl': getattr(s, 'SECURE_SSL_REDIRECT', False)}))"
)


def _run(args, **env):
    base = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
        and not key.startswith(("SECURE_", "STATIC_"))
    }
    base["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _probe(**env):
    result = _run(["-c", _PROBE], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_defaults_without_database_or_redis():
    values = _probe(DEBUG="1")
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("var/gatehouse.sqlite3")
    assert values["eager"] is True
    assert values["broker"] == "memory://localhost/"
    assert values["hosts"] == ["127.0.0.1", "localhost"]


def test_environment_is_parsed():
    values = _probe(
        DEBUG="0",
        SECRET_KEY="x" * 60,
        DATABASE_URL="postgres://gh:pw@db.internal:6543/gatehouse",
        REDIS_URL="redis://cache.internal:6380/2",
        ALLOWED_HOSTS="gatehouse.example.com,portal.example.com",
        EMAIL_URL="smtp+tls://mailer:pw@smtp.example.com:587",
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "gatehouse"
    assert values["eager"] is False
    assert values["broker"] == "redis://cache.internal:6380/2"
    assert values["hosts"] == ["gatehouse.example.com", "portal.example.com"]
    assert values["debug"] is False
    assert values["ssl"] is True
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"


def test_production_without_secret_key_fails_at_start_with_a_clear_message():
    result = _run(["manage.py", "check"], DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_migration_check_runs_without_a_secret_key_and_nothing_else_does():
    """A bare checkout's `manage.py makemigrations --check` needs no secret;
    every command that may sign or serve still refuses to start without one."""
    result = _run(["manage.py", "makemigrations", "--check", "--dry-run"], DEBUG="0")
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout
    for command in (["check"], ["migrate", "--plan"]):
        refused = _run(["manage.py", *command], DEBUG="0")
        assert refused.returncode != 0, command
        assert "SECRET_KEY is not set" in refused.stderr, command


def test_deploy_check_passes_without_warnings():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        SECRET_KEY="k8Zt-" + "q7Yw2-Lm4Pz9-Rv3Nx6-Hb1Jc8-Td5Fg0-Ks2We7-Ua9Xo4-Ei6",
        ALLOWED_HOSTS="gatehouse.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
