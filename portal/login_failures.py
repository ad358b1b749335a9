"""Failed logins, lockouts and unlocks in the audit log, bounded under attack.

An unauthenticated caller can fail to log in as often as it likes, so failures
are not one event each. Time is cut into fixed windows of
LOGIN_FAILURE_AUDIT_WINDOW_MINUTES (aligned to the epoch) and failures are
counted per (username, client address) and window (kernel.LoginFailureCount):

- the first failure of a pair in a window is an ``auth.login_failed`` event
  (``count`` 1), its lockout an ``auth.locked_out`` event, and when the window
  has closed a summary ``auth.login_failed`` (``"summary": true``) carries the
  pair's count if it failed more than once: at most 3 events per pair;
- at most LOGIN_FAILURE_AUDIT_KEYS_PER_WINDOW (K) pairs per window get events
  of their own; failures of further pairs are counted into one overflow
  summary per window (``"overflow": true``, with the failures, pairs and
  lockouts it stands for).

So a window causes at most 3K + 1 events, whoever sends how much, and an hour
at most (60/W + 1)(3K + 1) with W the window in minutes (the summaries of the
window before the hour are written in it): 305 with the defaults (W 15, K 20).
Unlocks are done by people (platform admins) and are one event each.

Lock order: the window row, then the pair's row, then the audit chain.
"""

from datetime import UTC, datetime, timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from audit.services import audit_record
from kernel.errors import PermissionDenied
from kernel.models import LoginFailureCount, LoginFailureWindow
from kernel.roles import PLATFORM_ADMIN, user_has_role
from kernel.throttling import API_TOKEN_USERNAME

# Summaries are written this long after their window ended, so that a failure
# counted at the window's last moment is in them.
_CLOSE_GRACE = timedelta(seconds=30)
# Closed windows are kept this long (they are a few rows each), then deleted.
_KEEP_CLOSED = timedelta(days=2)
OVERFLOW_ACTOR = "(many usernames)"


def _window_length() -> timedelta:
    return timedelta(minutes=settings.LOGIN_FAILURE_AUDIT_WINDOW_MINUTES)


def _window_start(moment: datetime) -> datetime:
    seconds = int(_window_length().total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def _locked_pair(*, username: str, ip: str, now: datetime):
    """The current window (locked) and the pair's row in it (locked)."""
    # One query each when the rows exist (their get takes the lock); a row just
    # created is locked by its own insert.
    window, _ = LoginFailureWindow.objects.select_for_update().get_or_create(
        start=_window_start(now)
    )
    pair, _ = LoginFailureCount.objects.select_for_update().get_or_create(
        window=window, username=username, ip=ip
    )
    return window, pair


def _audited(window: LoginFailureWindow, pair: LoginFailureCount) -> bool:
    """Whether the pair has events of its own: yes while the window's budget
    lasts (decided once per pair)."""
    if pair.is_audited:
        return True
    if pair.first_recorded or pair.lockout_recorded:
        return False  # decided before, when the budget was gone
    if window.audited_keys >= settings.LOGIN_FAILURE_AUDIT_KEYS_PER_WINDOW:
        return False
    window.audited_keys += 1
    window.save(update_fields=["audited_keys"])
    pair.is_audited = True
    return True


def login_failure_record(*, username: str, ip: str | None) -> None:
    """Count one failed login; audit it if it is the pair's first in the
    window and the window's budget allows."""
    username, ip = username[:150], ip or ""
    now = timezone.now()
    with transaction.atomic():
        login_failure_windows_close(now=now)
        window, pair = _locked_pair(username=username, ip=ip, now=now)
        pair.failures = F("failures") + 1
        first = not pair.first_recorded
        audited = _audited(window, pair) if first else pair.is_audited
        pair.first_recorded = True
        pair.save(update_fields=["failures", "first_recorded", "is_audited"])
        if first and audited:
            audit_record(
                actor=None,
                actor_text=username or "(no username)",
                action="auth.login_failed",
                payload={
                    "username": username,
                    "ip": ip,
                    "count": 1,
                    "window_start": window.start.isoformat(),
                },
            )


def login_lockout_record(*, username: str, ip: str | None, failures: int | None):
    """Audit the lockout of a username from an address, once per pair and window
    (axes announces it again for every attempt refused while locked)."""
    username, ip = (username or "")[:150], ip or ""
    with transaction.atomic():
        window, pair = _locked_pair(username=username, ip=ip, now=timezone.now())
        if pair.lockout_recorded:
            return
        audited = _audited(window, pair)
        pair.lockout_recorded = True
        pair.save(update_fields=["lockout_recorded", "is_audited"])
        if audited:
            audit_record(
                actor=None,
                actor_text=username or "(no username)",
                action="auth.locked_out",
                payload={
                    "username": username,
                    "ip": ip,
                    "failures": failures,
                    "cooloff_seconds": int(settings.AXES_COOLOFF_TIME.total_seconds()),
                },
            )


def login_failure_windows_close(*, now: datetime | None = None) -> int:
    """Write the summaries of the windows that have ended; return how many
    windows were closed. Called on every failure and by a periodic task."""
    now = now or timezone.now()
    closed = 0
    with transaction.atomic():
        ended = (
            LoginFailureWindow.objects.select_for_update(skip_locked=True)
            .filter(
                closed_at__isnull=True, start__lte=now - _window_length() - _CLOSE_GRACE
            )
            .order_by("start")
        )
        for window in ended:
            _summarise(window)
            window.closed_at = now
            window.save(update_fields=["closed_at"])
            window.counts.all().delete()
            closed += 1
        if closed:
            LoginFailureWindow.objects.filter(closed_at__lt=now - _KEEP_CLOSED).delete()
    return closed


def _summarise(window: LoginFailureWindow) -> None:
    end = window.start + _window_length()
    span = {"window_start": window.start.isoformat(), "window_end": end.isoformat()}
    repeated = window.counts.filter(is_audited=True, failures__gt=1).order_by("pk")
    for pair in repeated:
        audit_record(
            actor=None,
            actor_text=pair.username or "(no username)",
            action="auth.login_failed",
            payload={
                "username": pair.username,
                "ip": pair.ip,
                "count": pair.failures,
                "summary": True,
                **span,
            },
        )
    overflow = window.counts.filter(is_audited=False).aggregate(
        failures=Sum("failures"),
        pairs=Count("pk"),
        lockouts=Count("pk", filter=Q(lockout_recorded=True)),
    )
    if overflow["pairs"]:
        audit_record(
            actor=None,
            actor_text=OVERFLOW_ACTOR,
            action="auth.login_failed",
            payload={
                "count": overflow["failures"] or 0,
                "pairs": overflow["pairs"],
                "lockouts": overflow["lockouts"],
                "overflow": True,
                **span,
            },
        )


# --- Unlocking ------------------------------------------------------------------


def may_unlock(actor) -> bool:
    return bool(
        actor is not None
        and actor.is_active
        and (actor.is_superuser or user_has_role(actor, PLATFORM_ADMIN))
    )


def login_lockout_release(*, actor, attempt_ids: list[int]) -> int:
    """Lift the lockouts of the selected attempts' usernames (from every
    address; for bad API tokens, of the selected addresses): delete axes'
    failure counts, one ``auth.unlocked`` event per count deleted, naming who
    unlocked. Platform admins only. Return how many counts were deleted."""
    if not may_unlock(actor):
        raise PermissionDenied("Only platform admins lift login lockouts.")
    with transaction.atomic():
        selected = AccessAttempt.objects.filter(pk__in=attempt_ids)
        scope = Q(pk__in=[])
        for username, ip in selected.values_list("username", "ip_address"):
            if username == API_TOKEN_USERNAME:
                scope |= Q(username=username, ip_address=ip)
            else:
                scope |= Q(username=username)
        attempts = list(
            AccessAttempt.objects.select_for_update().filter(scope).order_by("pk")
        )
        for attempt in attempts:
            audit_record(
                actor=actor,
                action="auth.unlocked",
                target_type="axes.accessattempt",
                target_id=str(attempt.pk),
                target_text=attempt.username or "(no username)",
                payload={
                    "username": attempt.username or "",
                    "ip": attempt.ip_address or "",
                    "failures": attempt.failures_since_start,
                },
            )
        AccessAttempt.objects.filter(
            pk__in=[attempt.pk for attempt in attempts]
        ).delete()
    return len(attempts)
