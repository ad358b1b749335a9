"""Audit events for logging in and out, failing to, and being locked out.

Django's authentication signals are the one place these moments are announced
(they are not model signals: nothing here is a row change that could be missed);
axes announces lockouts with its own. Failures and lockouts are recorded in a
bounded way: see portal/login_failures.py.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db import transaction
from django.dispatch import receiver

from audit.middleware import client_ip
from audit.services import audit_record
from portal.login_failures import login_failure_record, login_lockout_record


@receiver(user_logged_in, dispatch_uid="audit_login")
def record_login(sender, request, user, **kwargs):
    with transaction.atomic():
        audit_record(actor=user, action="auth.login", target=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def record_logout(sender, request, user, **kwargs):
    if user is None:
        return
    with transaction.atomic():
        audit_record(actor=user, action="auth.logout", target=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def record_login_failed(sender, credentials, request=None, **kwargs):
    login_failure_record(
        username=str(credentials.get("username", "")),
        ip=client_ip(request) if request is not None else None,
    )


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def record_locked_out(sender, request, username, ip_address, **kwargs):
    login_lockout_record(
        username=str(username or ""),
        ip=ip_address,
        failures=getattr(request, "axes_failures_since_start", None),
    )
