"""Writes about people: API tokens, teams, and role and team membership."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from audit.services import audit_record
from kernel.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceError,
    TokenAlreadyRevoked,
)
from kernel.models import ApiToken, ServiceAccount, Team
from kernel.roles import (
    PLATFORM_ADMIN,
    ROLES,
    forget_memberships,
    is_service_account,
    user_has_role,
)
from kernel.scopes import SCOPE_NAMES, scope_errors, scopes_text
from kernel.tokens import generate_token
from portal.accounts import access as accounts_access

MAX_ACTIVE_TOKENS = 20
MAX_TOKEN_DAYS = 365
DEFAULT_TOKEN_DAYS = 90


def _may_manage_people(actor) -> bool:
    """Platform admins and superusers; ``actor=None`` is the system itself (a
    management command run by someone who already holds the database)."""
    return actor is None or actor.is_superuser or user_has_role(actor, PLATFORM_ADMIN)


def user_create(
    *,
    actor,
    username: str,
    email: str = "",
    password: str | None,
    is_staff: bool = False,
    first_name: str = "",
    last_name: str = "",
):
    if not _may_manage_people(actor):
        raise PermissionDenied("Only platform admins create users.")
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ServiceError("The user was not created.", fields={"username": ["Taken."]})
    with transaction.atomic():
        user = user_model.objects.create_user(
            username=username,
            email=email,
            password=password,
            is_staff=is_staff,
            first_name=first_name,
            last_name=last_name,
        )
        audit_record(
            actor=actor,
            action="user.created",
            target=user,
            payload={"username": username, "email": email, "is_staff": is_staff},
        )
    return user


def api_token_create(
    *,
    user,
    name: str,
    scopes: list[str] | tuple[str, ...] | None = None,
    expires_in_days: int | None = DEFAULT_TOKEN_DAYS,
    actor=None,
) -> tuple[ApiToken, str]:
    """Create a token of ``user`` (a person's own, or a service account's made
    by ``actor``, who is checked by the caller); return it with its plaintext,
    shown only once. It expires after ``expires_in_days`` (1 to 365) and may
    call what ``scopes`` cover (None: every scope, for scripts and tests; a
    service account's token never carries the approving ones)."""
    name = name.strip()
    service_account = is_service_account(user)
    if scopes is None:
        scopes = [
            scope
            for scope in SCOPE_NAMES
            if not (service_account and scope_errors([scope], service_account=True))
        ]
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the token a name, such as the script that uses it."]
    elif len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    if expires_in_days is None or not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        errors["expires_in_days"] = [f"Between 1 and {MAX_TOKEN_DAYS} days."]
    if problems := scope_errors(scopes, service_account=service_account):
        errors["scopes"] = problems
    if errors:
        raise InvalidInput("The token was not created.", fields=errors)
    with transaction.atomic():
        # Lock the user row so two requests cannot both pass the limit check.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
        if active >= MAX_ACTIVE_TOKENS:
            raise ServiceError(
                f"You have {MAX_ACTIVE_TOKENS} active tokens; revoke one first.",
                fields={"name": ["Too many active tokens."]},
            )
        plaintext, prefix, digest = generate_token()
        now = timezone.now()
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            digest=digest,
            created_at=now,
            expires_at=now + timedelta(days=expires_in_days),
            scopes=scopes_text(scopes),
        )
        audit_record(
            actor=actor or user,
            action="token.created",
            target=token,
            payload={
                "name": name,
                "prefix": prefix,
                "owner": user.get_username(),
                "scopes": token.scopes.split(),
                "expires_at": token.expires_at.isoformat(),
            },
        )
    return token, plaintext


def _may_revoke(actor, token: ApiToken) -> bool:
    if token.user_id == actor.pk or _may_manage_people(actor):
        return True
    account = (
        ServiceAccount.objects.select_related("team")
        .filter(user_id=token.user_id)
        .first()
    )
    return account is not None and accounts_access.may_manage(actor, account)


def api_token_revoke(*, actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens (platform admins may revoke anyone's,
    team leads those of their teams' service accounts)."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if token is None or not _may_revoke(actor, token):
            raise NotFound("No such token.")
        if token.revoked_at is not None:
            raise TokenAlreadyRevoked("This token is already revoked.")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="token.revoked",
            target=token,
            payload={
                "name": token.name,
                "prefix": token.prefix,
                "owner_id": token.user_id,
            },
        )
    return token


def team_create(*, actor, name: str, description: str = "") -> Team:
    if not _may_manage_people(actor):
        raise PermissionDenied("Only platform admins create teams.")
    name = name.strip()
    slug = slugify(name)
    if not name or not slug:
        raise ServiceError("The team was not created.", fields={"name": ["Required."]})
    if name in ROLES or Team.objects.filter(slug=slug).exists():
        raise ServiceError(
            "The team was not created.", fields={"name": ["This name is taken."]}
        )
    with transaction.atomic():
        group = Group.objects.create(name=f"team:{slug}")
        team = Team.objects.create(
            name=name, slug=slug, description=description, group=group
        )
        audit_record(
            actor=actor,
            action="team.created",
            target=team,
            payload={"name": name, "slug": slug},
        )
    return team


def _membership_label(group: Group) -> tuple[str, str]:
    """Return (kind, name) of a group: a role, a team, or another group."""
    if group.name in ROLES:
        return "role", group.name
    team = getattr(group, "team", None)
    if team is not None:
        return "team", team.slug
    return "group", group.name


def user_groups_set(*, actor, user, groups) -> None:
    """Set the user's groups (roles and teams), recording each change.

    One event per grant or revocation, named ``role.granted``, ``role.revoked``,
    ``team.member_added``, ``team.member_removed`` (``group.*`` for others).
    """
    if not _may_manage_people(actor):
        raise PermissionDenied("Only platform admins change roles and teams.")
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        wanted = {group.pk: group for group in groups}
        current = {group.pk: group for group in user.groups.select_related("team")}
        added = [wanted[pk] for pk in sorted(wanted.keys() - current.keys())]
        removed = [current[pk] for pk in sorted(current.keys() - wanted.keys())]
        user.groups.add(*added)
        user.groups.remove(*removed)
        changed = Group.objects.select_related("team").in_bulk(
            [group.pk for group in added + removed]
        )
        verbs = {
            "role": ("granted", "revoked"),
            "team": ("member_added", "member_removed"),
        }
        for group_list, index in ((added, 0), (removed, 1)):
            for group in group_list:
                kind, label = _membership_label(changed[group.pk])
                verb = verbs.get(kind, ("member_added", "member_removed"))[index]
                audit_record(
                    actor=actor,
                    action=f"{kind}.{verb}",
                    target=user,
                    payload={kind: label, "user": user.get_username()},
                )
        forget_memberships(user)


# What the admin's user form may change besides groups, permissions and the
# password (which have their own events); flags are recorded with their value.
ACCOUNT_FLAGS = ("is_active", "is_staff", "is_superuser")
_NOT_ACCOUNT_FIELDS = {"groups", "user_permissions", "password", "password1"}
_NOT_ACCOUNT_FIELDS |= {"password2", "usable_password"}


def user_account_save(*, actor, user, is_new: bool, changed: list[str]) -> None:
    """Save a person edited in the admin and record what changed: ``user.created``
    or ``user.updated`` with the changed field names and the new value of each
    account flag (active, staff, superuser). Groups and direct permissions are
    set by user_groups_set and user_permissions_set."""
    if not _may_manage_people(actor):
        raise PermissionDenied("Only platform admins change people.")
    if "is_superuser" in changed and not getattr(actor, "is_superuser", True):
        raise PermissionDenied("Only superusers grant or revoke superuser status.")
    fields = sorted(set(changed) - _NOT_ACCOUNT_FIELDS)
    with transaction.atomic():
        user.save()
        payload = {
            "user": user.get_username(),
            "changed": fields,
            **{flag: getattr(user, flag) for flag in ACCOUNT_FLAGS if flag in fields},
        }
        if is_new:
            payload.update(email=user.email, is_staff=user.is_staff)
            audit_record(
                actor=actor, action="user.created", target=user, payload=payload
            )
        elif fields:
            audit_record(
                actor=actor, action="user.updated", target=user, payload=payload
            )


def user_permissions_set(*, actor, user, permissions) -> None:
    """Set the permissions granted to the person directly (not through a role),
    one ``permission.granted`` / ``permission.revoked`` event per change."""
    if not _may_manage_people(actor):
        raise PermissionDenied("Only platform admins change permissions.")
    with transaction.atomic():
        wanted = {permission.pk for permission in permissions}
        current = set(user.user_permissions.values_list("pk", flat=True))
        added, removed = sorted(wanted - current), sorted(current - wanted)
        user.user_permissions.add(*added)
        user.user_permissions.remove(*removed)
        named = Permission.objects.select_related("content_type").in_bulk(
            added + removed
        )
        for pks, verb in ((added, "granted"), (removed, "revoked")):
            for pk in pks:
                permission = named[pk]
                label = f"{permission.content_type.app_label}.{permission.codename}"
                audit_record(
                    actor=actor,
                    action=f"permission.{verb}",
                    target=user,
                    payload={"permission": label, "user": user.get_username()},
                )


def user_password_set(*, actor, user, password: str | None = None) -> None:
    """Set a person's password (``password=None``: a form has just set it) and
    record ``user.password_set``; the password itself is never recorded."""
    if not _may_manage_people(actor):
        raise PermissionDenied("Only platform admins set other people's passwords.")
    with transaction.atomic():
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        audit_record(
            actor=actor,
            action="user.password_set",
            target=user,
            payload={"user": user.get_username()},
        )
