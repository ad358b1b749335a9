import pytest
from django.contrib.auth.models import Group, Permission

from kernel import roles

pytestmark = pytest.mark.django_db


def _codenames(role):
    group = Group.objects.get(name=role)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_every_role_group_exists():
    assert set(
        Group.objects.filter(name__in=roles.ROLES).values_list("name", flat=True)
    ) == set(roles.ROLES)


@pytest.mark.parametrize("role", roles.ROLES)
def test_role_holds_every_permission_it_is_defined_with(role):
    assert set(roles.ROLE_PERMISSIONS[role]) <= _codenames(role)


def test_every_defined_permission_exists():
    """A typo in ROLE_PERMISSIONS would otherwise be skipped silently."""
    wanted = {name for names in roles.ROLE_PERMISSIONS.values() for name in names}
    existing = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }
    assert wanted - existing == set()


def test_auditor_reads_everything_and_changes_nothing():
    permissions = _codenames(roles.AUDITOR)
    assert {
        "audit.view_auditevent",
        "audit.export_auditevent",
        "audit.verify_auditevent",
    } <= (permissions)
    writes = {
        p
        for p in permissions
        if p.split(".")[1].startswith(("add_", "change_", "delete_"))
    }
    assert writes == set()


def test_only_platform_admins_manage_people():
    for role in roles.ROLES:
        may = "auth.change_user" in _codenames(role)
        assert may == (role == roles.PLATFORM_ADMIN), role


def test_sync_is_idempotent_and_keeps_extra_permissions():
    from django.apps import apps

    extra = Permission.objects.get(codename="delete_session")
    Group.objects.get(name=roles.REVIEWER).permissions.add(extra)
    roles.sync_role_groups(apps)
    roles.sync_role_groups(apps)
    assert Group.objects.filter(name=roles.REVIEWER).count() == 1
    assert "sessions.delete_session" in _codenames(roles.REVIEWER)


def test_user_roles_reads_the_groups(data_scientist, platform_admin, outsider):
    assert roles.user_roles(data_scientist) == {roles.DATA_SCIENTIST}
    assert roles.user_has_role(platform_admin, roles.PLATFORM_ADMIN, roles.AUDITOR)
    assert roles.user_roles(outsider) == frozenset()
