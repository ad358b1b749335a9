"""Login throttling and lockout, written once for every way in: the login
page, MLflow's Basic auth and API tokens (django-axes keeps the counts).

A username is locked after ``AXES_FAILURE_LIMIT`` failures within the cool-off
(``AXES_COOLOFF_TIME``), counted per username and per (address, username);
while locked, even the right password is refused. Bad API tokens count under
the pseudo-username ``(api token)`` per address only, so one address guessing
tokens is throttled without locking anyone else out.

Failures are announced with Django's ``user_login_failed`` signal (axes counts
them; the shell audits them), lockouts with axes' ``user_locked_out``.
"""

import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.contrib.auth.signals import user_login_failed
from django.db.models import Max, Sum
from django.utils import timezone
from rest_framework import exceptions

# No account can have this name: usernames take letters, digits and @.+-_ only.
API_TOKEN_USERNAME = "(api token)"  # noqa: S105 (a name, not a secret)

_PER_ACCOUNT = ["username", ["ip_address", "username"]]
_PER_ADDRESS = [["ip_address", "username"]]


def lockout_parameters(request_or_attempt, credentials=None):
    """AXES_LOCKOUT_PARAMETERS: per username and per (address, username); bad
    API tokens per address only (one pseudo-username for all of them)."""
    username = (credentials or {}).get("username")
    if username is None:
        username = getattr(request_or_attempt, "username", None)
    return _PER_ADDRESS if username == API_TOKEN_USERNAME else _PER_ACCOUNT


def _credentials(username: str) -> dict[str, str]:
    return {"username": username}


def is_locked(request, username: str) -> bool:
    """Whether this username (from this request's client address) is locked."""
    return AxesProxyHandler.is_locked(request, _credentials(username))


def retry_after(request, username: str) -> int:
    """Seconds until the lockout of this username (from this address) ends."""
    AxesProxyHandler.update_request(request)
    credentials = _credentials(username)
    handler = AxesProxyHandler.get_implementation()
    limit = get_failure_limit(request, credentials)
    cool_off = get_cool_off(request)
    now = timezone.now()
    latest = None
    for attempts in handler.get_user_attempts(request, credentials):
        found = attempts.aggregate(
            failures=Sum("failures_since_start"), latest=Max("attempt_time")
        )
        if (found["failures"] or 0) >= limit and found["latest"] is not None:
            latest = max(latest or found["latest"], found["latest"])
    if latest is None or cool_off is None:
        return math.ceil(cool_off.total_seconds()) if cool_off else 60
    return max(1, math.ceil((latest + cool_off - now).total_seconds()))


def token_failure_record(request) -> bool:
    """Count a bad API token from this request's address (it does not go
    through ``authenticate``): axes counts it, the shell audits it. Return
    whether the address is locked out of token guessing now."""
    credentials = _credentials(API_TOKEN_USERNAME)
    if AxesProxyHandler.is_locked(request, credentials):
        # Refused while locked: audited, but not counted again by axes (which
        # would push the end of the lockout further away).
        request.axes_locked_out = True
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return bool(getattr(request, "axes_locked_out", False))


class TooManyFailures(exceptions.Throttled):
    """429 with Retry-After, in the API's ``{"code", "message", "fields"}``."""

    default_code = "too_many_failures"

    def __init__(self, wait: int):
        super().__init__(
            wait=wait,
            detail="Too many failed authentication attempts from this address.",
            code=self.default_code,
        )
