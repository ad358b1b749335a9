"""Writes about service accounts: create, deactivate, and their tokens.

A service account is a user row with an unusable password, in its team's group
and the data scientist's role (what a team's pipeline does: register, request,
push monitoring data); its ServiceAccount row says it is not a person. Every
change is an audit event naming the person who made it.
"""

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from audit.services import audit_record
from kernel.errors import InvalidInput, NotFound
from kernel.models import ApiToken, ServiceAccount, Team
from kernel.roles import DATA_SCIENTIST
from portal.accounts import access
from portal.services import api_token_create, api_token_revoke

USERNAME_PREFIX = "svc-"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")
ACCOUNT_ROLES = (DATA_SCIENTIST,)


def _locked(actor, account_id: int) -> ServiceAccount:
    account = access.account_or_404(actor, account_id)
    account = (
        ServiceAccount.objects.select_for_update(of=("self",))
        .select_related("user", "team")
        .get(pk=account.pk)
    )
    if refusal := access.manage_refusal(actor, account):
        raise refusal
    return account


def service_account_create(
    *, actor, name: str, team_id: int | None, description: str = ""
) -> ServiceAccount:
    """Create a service account of a team the actor manages (platform admins:
    any team; team leads: their own)."""
    if not access.may_create_service_accounts(actor):
        raise access.PermissionDenied(
            "Only platform admins and team leads create service accounts."
        )
    name = (name or "").strip().lower()
    description = (description or "").strip()
    errors: dict[str, list[str]] = {}
    if not _NAME.match(name):
        errors["name"] = [
            "3 to 60 lowercase letters, digits and hyphens, such as 'nightly-ci'."
        ]
    if len(description) > 2000:
        errors["description"] = ["At most 2000 characters."]
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    if team is None:
        errors["team"] = ["Choose the team that owns the account."]
    if errors:
        raise InvalidInput("The service account was not created.", fields=errors)
    if refusal := access.create_refusal(actor, team):
        raise refusal
    username = f"{USERNAME_PREFIX}{name}"
    user_model = get_user_model()
    with transaction.atomic():
        if user_model.objects.filter(username=username).exists():
            raise InvalidInput(
                "The service account was not created.",
                fields={"name": [f"“{username}” is taken."]},
            )
        user = user_model.objects.create_user(username=username, password=None)
        user.groups.add(team.group, *Group.objects.filter(name__in=ACCOUNT_ROLES))
        account = ServiceAccount.objects.create(
            user=user, team=team, description=description, created_by=actor
        )
        audit_record(
            actor=actor,
            action="service_account.created",
            target=account,
            payload={
                "username": username,
                "team": team.slug,
                "roles": list(ACCOUNT_ROLES),
            },
        )
    return account


def service_account_deactivate(*, actor, account_id: int) -> ServiceAccount:
    """Switch the account off: its tokens stop working at once (the token check
    reads ``is_active`` on every call)."""
    with transaction.atomic():
        account = _locked(actor, account_id)
        user = account.user
        if not user.is_active:
            raise InvalidInput("This service account is already deactivated.")
        user.is_active = False
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="service_account.deactivated",
            target=account,
            payload={"username": user.get_username(), "team": account.team.slug},
        )
    return account


def service_account_token_create(
    *,
    actor,
    account_id: int,
    name: str,
    scopes: list[str],
    expires_in_days: int | None,
) -> tuple[ApiToken, str]:
    """A token for the service account, made by someone who manages it; the
    plaintext is returned once."""
    account = access.account_or_404(actor, account_id)
    if refusal := access.manage_refusal(actor, account):
        raise refusal
    if not account.user.is_active:
        raise InvalidInput("A deactivated service account gets no new token.")
    return api_token_create(
        user=account.user,
        actor=actor,
        name=name,
        scopes=scopes,
        expires_in_days=expires_in_days,
    )


def service_account_token_revoke(*, actor, account_id: int, token_id: int) -> ApiToken:
    account = access.account_or_404(actor, account_id)
    if refusal := access.manage_refusal(actor, account):
        raise refusal
    if not ApiToken.objects.filter(pk=token_id, user_id=account.user_id).exists():
        raise NotFound("No such token.")
    return api_token_revoke(actor=actor, token_id=token_id)
