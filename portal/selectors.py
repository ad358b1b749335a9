"""Reads for the people-facing pages of the portal."""

from dataclasses import dataclass

from django.db.models import Q

from audit.models import AuditEvent
from kernel.models import ApiToken, Team
from kernel.roles import AUDITOR, PLATFORM_ADMIN, ROLES, user_has_role, user_roles
from kernel.teams import team_list_for_user


def api_token_list(*, user):
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at")


def audit_event_list_recent(*, actor, limit: int = 10):
    """Recent events the actor may see: all of them for auditors and platform
    admins, otherwise the actor's own actions and events about the actor."""
    events = AuditEvent.objects.order_by("-sequence")
    if not (actor.is_superuser or user_has_role(actor, AUDITOR, PLATFORM_ADMIN)):
        events = events.filter(
            Q(actor=actor) | Q(target_type="auth.user", target_id=str(actor.pk))
        )
    return events[:limit]


@dataclass(frozen=True)
class HomeDashboard:
    roles: list[str]
    teams: list[Team]
    active_token_count: int
    recent_events: list[AuditEvent]
    sees_all_events: bool


def home_dashboard(*, user) -> HomeDashboard:
    roles = user_roles(user)
    return HomeDashboard(
        roles=[role for role in ROLES if role in roles],
        teams=list(team_list_for_user(user=user)),
        active_token_count=ApiToken.objects.filter(
            user=user, revoked_at__isnull=True
        ).count(),
        recent_events=list(audit_event_list_recent(actor=user)),
        sees_all_events=user.is_superuser or bool(roles & {AUDITOR, PLATFORM_ADMIN}),
    )
