"""Writes of the identity app: signing in through the IdP (just-in-time
accounts, linking), roles and teams from IdP groups, deactivation, and the
group mapping. Each runs in one transaction with its audit events.

Lock order: the user row, then the chain (audit_record takes it last).
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.services import audit_record
from identity.access import may_manage_mappings
from identity.errors import LoginRefused
from identity.models import ExternalIdentity, GroupMapping, UserSession
from kernel.errors import InvalidInput, NotFound, PermissionDenied
from kernel.models import Team
from kernel.roles import PLATFORM_ADMIN, ROLE_LABELS, ROLES, forget_memberships

logger = logging.getLogger("identity.sso")

MAX_GROUPS = 1000
MAX_GROUP_LENGTH = 255


def claim_groups(value) -> list[str]:
    """The groups claim as a sorted list of distinct strings (a single string
    counts as one group; anything else is not a group)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    groups = {
        item
        for item in value[:MAX_GROUPS]
        if isinstance(item, str)
        and 0 < len(item) <= MAX_GROUP_LENGTH
        and "\x00" not in item
    }
    return sorted(groups)


# --- Roles and teams from IdP groups ------------------------------------------------


def access_sync(*, user, groups: Iterable[str], source: str) -> dict[str, list]:
    """Set the user's roles and teams to exactly what ``groups`` map to.

    Granted and taken away alike, one audit event per change naming the IdP
    group(s) that caused it (for a removal: the mapped groups the person no
    longer has, or none if the role was given by hand). Groups that map to
    nothing leave the person with no role and no team: their history stays,
    they can do nothing. ``is_staff`` follows the platform-admin role (the
    admin site needs it); superusers keep theirs. Call inside a transaction
    that has locked the user row. Returns the changes, for the caller's report.
    """
    groups = set(groups)
    mappings = list(GroupMapping.objects.select_related("team__group").all())
    role_claims: dict[str, set[str]] = {}
    team_claims: dict[int, set[str]] = {}
    teams: dict[int, Team] = {}
    for mapping in mappings:
        if mapping.role:
            role_claims.setdefault(mapping.role, set()).add(mapping.claim)
        else:
            team_claims.setdefault(mapping.team_id, set()).add(mapping.claim)
            teams[mapping.team_id] = mapping.team
    wanted_roles = {role for role, claims in role_claims.items() if claims & groups}
    wanted_teams = {team for team, claims in team_claims.items() if claims & groups}

    held = list(user.groups.filter(name__in=ROLES).values_list("pk", "name"))
    held_roles = {name: pk for pk, name in held}
    held_teams = {
        team.pk: team
        for team in Team.objects.filter(group__user=user).select_related("group")
    }
    role_groups = {
        group.name: group
        for group in Group.objects.filter(name__in=wanted_roles - held_roles.keys())
    }
    changes: dict[str, list] = {"granted": [], "revoked": [], "joined": [], "left": []}

    def record(action: str, payload: dict) -> None:
        audit_record(
            actor=None,
            actor_text=source,
            action=action,
            target=user,
            payload={**payload, "source": source},
        )

    for role in sorted(wanted_roles - held_roles.keys()):
        user.groups.add(role_groups[role])
        claims = sorted(role_claims[role] & groups)
        record("identity.role_granted", {"role": role, "claims": claims})
        changes["granted"].append(role)
    for role in sorted(held_roles.keys() - wanted_roles):
        user.groups.remove(held_roles[role])
        missing = sorted(role_claims.get(role, set()))
        record("identity.role_revoked", {"role": role, "missing_claims": missing})
        changes["revoked"].append(role)
    for team_id in sorted(wanted_teams - held_teams.keys()):
        team = teams[team_id]
        user.groups.add(team.group)
        claims = sorted(team_claims[team_id] & groups)
        record("identity.team_joined", {"team": team.slug, "claims": claims})
        changes["joined"].append(team.slug)
    for team_id in sorted(held_teams.keys() - wanted_teams):
        team = held_teams[team_id]
        user.groups.remove(team.group)
        missing = sorted(team_claims.get(team_id, set()))
        record("identity.team_left", {"team": team.slug, "missing_claims": missing})
        changes["left"].append(team.slug)

    is_staff = PLATFORM_ADMIN in wanted_roles
    if not user.is_superuser and user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
        record("identity.staff_changed", {"is_staff": is_staff})
    forget_memberships(user)
    return changes


# --- Signing in -------------------------------------------------------------------


def _username_from_claims(claims: dict) -> str:
    user_model = get_user_model()
    for name in (settings.OIDC_USERNAME_CLAIM, "email"):
        candidate = claims.get(name)
        if isinstance(candidate, str) and 0 < len(candidate) <= 150:
            try:
                user_model.username_validator(candidate)
            except ValidationError:
                continue
            return candidate
    raise LoginRefused(
        "The identity provider sent no usable user name "
        f"(claim {settings.OIDC_USERNAME_CLAIM!r} or 'email')."
    )


def _profile(claims: dict) -> dict[str, str]:
    def text(name: str, limit: int) -> str:
        value = claims.get(name)
        return value[:limit] if isinstance(value, str) and "\x00" not in value else ""

    return {
        "email": text("email", 254),
        "first_name": text("given_name", 150),
        "last_name": text("family_name", 150),
    }


def sso_login(*, issuer: str, claims: dict):
    """The user the provider's verified claims name: found by (issuer, sub),
    or a SCIM-provisioned account of that user name signing in for the first
    time, or (OIDC_LINK_LOCAL_ACCOUNTS) a local account of that name, or a new
    account (just-in-time). Their profile, roles and teams are then set from
    the claims. A deactivated person is refused."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise LoginRefused("The identity provider sent no subject.")
    user_model = get_user_model()
    source = f"idp:{issuer}"[:300]
    with transaction.atomic():
        identity = (
            ExternalIdentity.objects.select_for_update()
            .filter(issuer=issuer, subject=subject)
            .first()
        )
        if identity is not None:
            user = user_model.objects.select_for_update().get(pk=identity.user_id)
        else:
            user, identity = _first_login(
                issuer=issuer, subject=subject, claims=claims, source=source
            )
        if not user.is_active:
            logger.warning("SSO sign-in refused: %s is deactivated", user)
            raise LoginRefused(
                "Your Gatehouse account is deactivated. Ask a platform admin."
            )
        profile = _profile(claims)
        changed = {
            field: value
            for field, value in profile.items()
            if value and getattr(user, field) != value
        }
        if changed:
            for field, value in changed.items():
                setattr(user, field, value)
            user.save(update_fields=list(changed))
            audit_record(
                actor=None,
                actor_text=source,
                action="identity.profile_updated",
                target=user,
                payload={"changed": sorted(changed)},
            )
        groups = claim_groups(claims.get(settings.OIDC_GROUPS_CLAIM))
        identity.groups = groups
        identity.last_synced_at = timezone.now()
        identity.save(update_fields=["groups", "last_synced_at", "updated_at"])
        access_sync(user=user, groups=groups, source=source)
    return user


def _first_login(*, issuer: str, subject: str, claims: dict, source: str):
    user_model = get_user_model()
    username = _username_from_claims(claims)
    user = user_model.objects.select_for_update().filter(username=username).first()
    if user is None:
        try:
            with transaction.atomic():
                user = user_model.objects.create_user(
                    username=username, password=None, **_profile(claims)
                )
        except IntegrityError as error:  # the same person, in another tab
            raise LoginRefused("Sign-in in progress elsewhere; try again.") from error
        identity = ExternalIdentity.objects.create(
            user=user, issuer=issuer, subject=subject
        )
        audit_record(
            actor=None,
            actor_text=source,
            action="identity.user_provisioned",
            target=user,
            payload={"username": username, "subject": subject, "via": "oidc"},
        )
        return user, identity
    identity = ExternalIdentity.objects.select_for_update().filter(user=user).first()
    if identity is not None and not identity.subject:
        how = "scim"  # provisioned by the IdP, signing in for the first time
    elif (
        identity is None and settings.OIDC_LINK_LOCAL_ACCOUNTS and not user.is_superuser
    ):
        how = "local_account"
        identity = ExternalIdentity(user=user)
    else:
        logger.warning(
            "SSO sign-in refused: account %s exists and is not linked to %s/%s",
            username,
            issuer,
            subject,
        )
        raise LoginRefused(
            f"An account named {username} already exists in Gatehouse and is not "
            "linked to your identity at the provider. Ask a platform admin."
        )
    identity.issuer, identity.subject = issuer, subject
    identity.save()
    audit_record(
        actor=None,
        actor_text=source,
        action="identity.linked",
        target=user,
        payload={"subject": subject, "linked": how},
    )
    return user, identity


# --- Sessions and deactivation ----------------------------------------------------


def user_session_remember(*, user, session_key: str) -> None:
    """Remember a session the user signed in to (bookkeeping, not audited)."""
    cutoff = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    UserSession.objects.filter(user=user, created_at__lt=cutoff).delete()
    UserSession.objects.update_or_create(
        session_key=session_key, defaults={"user": user}
    )


def user_sessions_end(*, user) -> int:
    """Delete every session the user signed in to; return how many were still
    open (records of sessions that ended by sign-out or expiry are kept until
    then: a sign-out writes nothing here)."""
    store: type[SessionBase] = import_string(settings.SESSION_ENGINE + ".SessionStore")
    keys = list(
        UserSession.objects.filter(user=user).values_list("session_key", flat=True)
    )
    ended = 0
    for key in keys:
        session = store(session_key=key)
        if session.exists(key):
            session.delete()
            ended += 1
    UserSession.objects.filter(user=user).delete()
    return ended


def user_deactivate(*, user_id: int, source: str, reason: str):
    """Deactivate a person: no sign-in, every session ended, every API token
    refused from the next request on (token auth checks ``is_active``). Their
    records and history stay. Idempotent."""
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound("No such user.")
        ended = user_sessions_end(user=user)
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
            audit_record(
                actor=None,
                actor_text=source,
                action="identity.user_deactivated",
                target=user,
                payload={"reason": reason, "sessions_ended": ended},
            )
    return user


def user_reactivate(*, user_id: int, source: str):
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound("No such user.")
        if not user.is_active:
            user.is_active = True
            user.save(update_fields=["is_active"])
            audit_record(
                actor=None,
                actor_text=source,
                action="identity.user_reactivated",
                target=user,
            )
    return user


# --- The mapping --------------------------------------------------------------------


def _mapping_payload(mapping: GroupMapping) -> dict:
    return {
        "claim": mapping.claim,
        "role": mapping.role,
        "team": mapping.team.slug if mapping.team_id else "",
    }


def group_mapping_create(*, actor, claim: str, role: str = "", team_id: int | None):
    """Map an IdP group to a role or a team (exactly one)."""
    if not may_manage_mappings(actor):
        raise PermissionDenied("Only platform admins change the group mapping.")
    claim = (claim or "").strip()
    errors: dict[str, list[str]] = {}
    if not claim:
        errors["claim"] = ["Name the IdP group."]
    elif len(claim) > MAX_GROUP_LENGTH or "\x00" in claim:
        errors["claim"] = [f"At most {MAX_GROUP_LENGTH} characters, no NUL."]
    if role and role not in ROLE_LABELS:
        errors["role"] = ["Not a role."]
    if bool(role) == (team_id is not None):
        errors["role"] = ["Choose a role or a team (one of them)."]
    team = None
    if team_id is not None:
        team = Team.objects.filter(pk=team_id).first()
        if team is None:
            errors["team"] = ["No such team."]
    if errors:
        raise InvalidInput("The mapping was not saved.", fields=errors)
    with transaction.atomic():
        mapping, created = GroupMapping.objects.get_or_create(
            claim=claim, role=role, team=team
        )
        if not created:
            raise InvalidInput(
                "The mapping was not saved.", fields={"claim": ["Already mapped."]}
            )
        audit_record(
            actor=actor,
            action="identity.mapping_created",
            target=mapping,
            payload=_mapping_payload(mapping),
        )
    return mapping


def group_mapping_delete(*, actor, mapping_id: int) -> None:
    if not may_manage_mappings(actor):
        raise PermissionDenied("Only platform admins change the group mapping.")
    with transaction.atomic():
        mapping = (
            GroupMapping.objects.select_for_update(of=("self",))
            .select_related("team")
            .filter(pk=mapping_id)
            .first()
        )
        if mapping is None:
            raise NotFound("No such mapping.")
        audit_record(
            actor=actor,
            action="identity.mapping_deleted",
            target=mapping,
            payload=_mapping_payload(mapping),
        )
        mapping.delete()
