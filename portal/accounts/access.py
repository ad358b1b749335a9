"""Who may see and manage service accounts: each rule once.

Platform admins (and superusers) manage every team's service accounts; a team
lead manages those of the teams they belong to; auditors see them all and
change nothing. A service account manages nothing, whatever it is given.
"""

from django.db.models import Q, QuerySet

from kernel.errors import NotFound, PermissionDenied
from kernel.models import ServiceAccount, Team
from kernel.roles import (
    AUDITOR,
    PLATFORM_ADMIN,
    TEAM_LEAD,
    is_service_account,
    user_roles,
)


def _is_admin(actor) -> bool:
    return actor.is_superuser or PLATFORM_ADMIN in user_roles(actor)


def managed_teams(actor) -> QuerySet:
    """The teams whose service accounts the actor creates and manages."""
    if not actor.is_authenticated or is_service_account(actor):
        return Team.objects.none()
    if _is_admin(actor):
        return Team.objects.all()
    if TEAM_LEAD in user_roles(actor):
        return Team.objects.filter(group__user=actor)
    return Team.objects.none()


def may_create_service_accounts(actor) -> bool:
    """Create a service account for at least one team (pages ask this)."""
    if not actor.is_authenticated or is_service_account(actor):
        return False
    return _is_admin(actor) or TEAM_LEAD in user_roles(actor)


def may_see_service_accounts(actor) -> bool:
    return may_create_service_accounts(actor) or (
        actor.is_authenticated and AUDITOR in user_roles(actor)
    )


def visible_accounts(actor) -> QuerySet:
    """The service accounts the actor may see, as one filter."""
    accounts = ServiceAccount.objects.all()
    if not actor.is_authenticated or is_service_account(actor):
        return accounts.none()
    if _is_admin(actor) or AUDITOR in user_roles(actor):
        return accounts
    if TEAM_LEAD in user_roles(actor):
        return accounts.filter(Q(team__group__user=actor))
    return accounts.none()


def manage_refusal(actor, account: ServiceAccount) -> PermissionDenied | None:
    """Why the actor may not change the account or its tokens (None: may)."""
    if is_service_account(actor):
        return PermissionDenied("A service account manages no service account.")
    if _is_admin(actor):
        return None
    if TEAM_LEAD in user_roles(actor) and (
        Team.objects.filter(pk=account.team_id, group__user=actor).exists()
    ):
        return None
    return PermissionDenied(
        f"Only platform admins and leads of {account.team.name} manage this "
        "service account."
    )


def may_manage(actor, account: ServiceAccount) -> bool:
    return manage_refusal(actor, account) is None


def create_refusal(actor, team: Team) -> PermissionDenied | None:
    if not managed_teams(actor).filter(pk=team.pk).exists():
        return PermissionDenied(
            f"Only platform admins and leads of {team.name} create its service "
            "accounts."
        )
    return None


def account_or_404(actor, account_id: int) -> ServiceAccount:
    account = (
        visible_accounts(actor)
        .select_related("user", "team", "created_by")
        .filter(pk=account_id)
        .first()
    )
    if account is None:
        raise NotFound("No such service account.")
    return account
