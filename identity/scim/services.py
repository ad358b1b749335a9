"""SCIM writes: people and groups the IdP provisions. One transaction each,
audited as the actor ``scim``; a SCIM error (400/404/409) changes nothing.

Lock order: the SCIM group row, then user rows (by pk), then the chain.
"""

import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch

from audit.services import audit_record
from identity.models import ExternalIdentity, ScimGroup
from identity.scim.parsing import GroupFields, UserFields
from identity.scim.resources import ScimError
from identity.services import (
    access_sync,
    user_deactivate,
    user_reactivate,
    user_sessions_end,
)

SOURCE = "scim"
_PROFILE = {
    "username": "username",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
}


def _record(action: str, target, payload: dict) -> None:
    audit_record(
        actor=None, actor_text=SOURCE, action=action, target=target, payload=payload
    )


def _locked_identity(scim_id: uuid.UUID) -> ExternalIdentity:
    identity = ExternalIdentity.objects.filter(scim_id=scim_id).first()
    if identity is None:
        raise ScimError(404, "No such user.")
    get_user_model().objects.select_for_update().filter(pk=identity.user_id).first()
    return ExternalIdentity.objects.select_related("user").get(pk=identity.pk)


def current_user_fields(identity: ExternalIdentity) -> UserFields:
    user = identity.user
    return UserFields(
        username=user.username,
        external_id=identity.external_id,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        is_active=user.is_active,
    )


def scim_user_create(*, fields: UserFields) -> ExternalIdentity:
    user_model = get_user_model()
    with transaction.atomic():
        user = (
            user_model.objects.select_for_update()
            .filter(username=fields.username)
            .first()
        )
        if user is not None:
            adopt = (
                settings.OIDC_LINK_LOCAL_ACCOUNTS
                and not user.is_superuser
                and not ExternalIdentity.objects.filter(user=user).exists()
            )
            if not adopt:
                raise ScimError(409, "userName is already taken.", "uniqueness")
            for attribute, name in _PROFILE.items():
                setattr(user, name, getattr(fields, attribute))
            user.is_active = fields.is_active
            user.save()
            how = "adopted"
        else:
            user = user_model.objects.create_user(
                username=fields.username,
                password=None,
                email=fields.email,
                first_name=fields.first_name,
                last_name=fields.last_name,
                is_active=fields.is_active,
            )
            how = "created"
        identity = ExternalIdentity.objects.create(
            user=user, external_id=fields.external_id
        )
        _record(
            "identity.user_provisioned",
            user,
            {
                "username": fields.username,
                "external_id": fields.external_id,
                "active": fields.is_active,
                "via": "scim",
                "account": how,
            },
        )
    return identity


def scim_user_update(*, scim_id: uuid.UUID, change) -> ExternalIdentity:
    """Apply ``change(current UserFields) -> UserFields`` (a PUT's body or a
    PATCH's operations) to the user; deactivation ends their sessions and
    stops their tokens."""
    user_model = get_user_model()
    with transaction.atomic():
        identity = _locked_identity(scim_id)
        user = identity.user
        before = current_user_fields(identity)
        after = change(before)
        if (
            after.username != before.username
            and user_model.objects.filter(username=after.username).exists()
        ):
            raise ScimError(409, "userName is already taken.", "uniqueness")
        changed = sorted(
            name
            for name in ("username", "first_name", "last_name", "email", "external_id")
            if getattr(before, name) != getattr(after, name)
        )
        if changed:
            for name in changed:
                if name == "external_id":
                    identity.external_id = after.external_id
                else:
                    setattr(user, name, getattr(after, name))
            user.save()
            identity.save()
            _record("identity.user_updated", user, {"changed": changed})
        if before.is_active and not after.is_active:
            user_deactivate(user_id=user.pk, source=SOURCE, reason="scim: active=false")
        elif after.is_active and not before.is_active:
            user_reactivate(user_id=user.pk, source=SOURCE)
        identity.user.refresh_from_db()
    return identity


def scim_user_delete(*, scim_id: uuid.UUID) -> None:
    """The IdP deleted the person: deactivated (their records and history
    stay), sessions ended, roles and teams and SCIM groups taken away, and
    the SCIM resource gone."""
    with transaction.atomic():
        identity = _locked_identity(scim_id)
        user = identity.user
        user_deactivate(user_id=user.pk, source=SOURCE, reason="scim: deleted")
        user_sessions_end(user=user)
        access_sync(user=user, groups=[], source=SOURCE)
        user.scim_groups.clear()
        _record("identity.user_deleted", user, {"scim_id": str(scim_id)})
        identity.delete()


# --- Groups -------------------------------------------------------------------------


def group_queryset():
    return ScimGroup.objects.prefetch_related(
        Prefetch(
            "members",
            queryset=get_user_model()
            .objects.select_related("external_identity")
            .order_by("username"),
        )
    )


def current_group_fields(group: ScimGroup) -> GroupFields:
    return GroupFields(
        display_name=group.display_name,
        external_id=group.external_id,
        member_ids={member.external_identity.scim_id for member in group.members.all()},
    )


def _members(ids: set[uuid.UUID]) -> list:
    identities = list(
        ExternalIdentity.objects.filter(scim_id__in=ids).values_list("scim_id", "user")
    )
    unknown = ids - {scim_id for scim_id, _ in identities}
    if unknown:
        raise ScimError(
            400,
            f"Unknown member id(s): {', '.join(sorted(map(str, unknown)))}.",
            "invalidValue",
        )
    return sorted(user_id for _, user_id in identities)


def _sync_members(user_ids: set[int]) -> None:
    """Recompute the roles and teams of these people from their SCIM groups."""
    user_model = get_user_model()
    users = list(
        user_model.objects.select_for_update()
        .filter(pk__in=sorted(user_ids))
        .order_by("pk")
        .prefetch_related("scim_groups")
    )
    for user in users:
        claims = set().union(*(g.claim_values() for g in user.scim_groups.all()))
        access_sync(user=user, groups=claims, source=SOURCE)


def _name_taken(display_name: str, group_pk: int | None) -> bool:
    return (
        ScimGroup.objects.filter(display_name=display_name)
        .exclude(pk=group_pk)
        .exists()
    )


def scim_group_create(*, fields: GroupFields) -> ScimGroup:
    with transaction.atomic():
        member_ids = _members(fields.member_ids)
        if _name_taken(fields.display_name, None):
            raise ScimError(409, "displayName is already taken.", "uniqueness")
        group = ScimGroup.objects.create(
            display_name=fields.display_name, external_id=fields.external_id
        )
        group.members.set(member_ids)
        _record(
            "identity.group_provisioned",
            group,
            {
                "display_name": group.display_name,
                "external_id": group.external_id,
                "members": len(member_ids),
            },
        )
        _sync_members(set(member_ids))
    return group_queryset().get(pk=group.pk)


def scim_group_update(*, scim_id: uuid.UUID, change) -> ScimGroup:
    with transaction.atomic():
        group = (
            group_queryset()
            .select_for_update(of=("self",))
            .filter(scim_id=scim_id)
            .first()
        )
        if group is None:
            raise ScimError(404, "No such group.")
        before = current_group_fields(group)
        after = change(before)
        added = _members(after.member_ids - before.member_ids)
        removed = _members(before.member_ids - after.member_ids)
        if after.display_name != before.display_name and _name_taken(
            after.display_name, group.pk
        ):
            raise ScimError(409, "displayName is already taken.", "uniqueness")
        renamed = (after.display_name, after.external_id) != (
            before.display_name,
            before.external_id,
        )
        if renamed:
            group.display_name = after.display_name
            group.external_id = after.external_id
            group.save()
        group.members.add(*added)
        group.members.remove(*removed)
        if renamed or added or removed:
            _record(
                "identity.group_updated",
                group,
                {
                    "display_name": [before.display_name, after.display_name],
                    "added": sorted(
                        str(i) for i in after.member_ids - before.member_ids
                    ),
                    "removed": sorted(
                        str(i) for i in before.member_ids - after.member_ids
                    ),
                },
            )
        # A rename changes what every member's groups map to.
        affected = set(added) | set(removed)
        if renamed:
            affected |= set(group.members.values_list("pk", flat=True))
        _sync_members(affected)
    return group_queryset().get(pk=group.pk)


def scim_group_delete(*, scim_id: uuid.UUID) -> None:
    with transaction.atomic():
        group = ScimGroup.objects.select_for_update().filter(scim_id=scim_id).first()
        if group is None:
            raise ScimError(404, "No such group.")
        members = set(group.members.values_list("pk", flat=True))
        _record(
            "identity.group_deleted",
            group,
            {"display_name": group.display_name, "members": len(members)},
        )
        group.delete()
        _sync_members(members)
