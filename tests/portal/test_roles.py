import pytest
from django.contrib.auth.models import Group, Permission

from kernel import roles
from tests.conftest import make_user

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


def test_roles_groups_and_service_flag_come_in_one_query(
    data_scientist, team, other_team, django_assert_num_queries
):
    from kernel.models import ServiceAccount

    with django_assert_num_queries(1):
        assert roles.user_roles(data_scientist) == {roles.DATA_SCIENTIST}
        assert roles.is_team_member(data_scientist, team)
        assert not roles.is_team_member(data_scientist, other_team)
        assert not roles.is_service_account(data_scientist)
        assert team.group_id in roles.group_ids(data_scientist)
    robot = make_user("svc-robot", team=team)
    ServiceAccount.objects.create(user=robot, team=team, created_by=data_scientist)
    assert roles.is_service_account(robot)
    assert roles.user_roles(robot) == frozenset()
    assert roles.is_team_member(robot, team)


def test_token_authentication_reads_the_roles_with_the_token(
    data_scientist, team, other_team, django_assert_num_queries
):
    from kernel.authentication import user_for_token
    from kernel.teams import teams_of
    from portal.services import api_token_create

    plaintext = api_token_create(user=data_scientist, name="ci")[1]
    user_for_token(plaintext)  # the first use also stamps last_used_at
    data_scientist.groups.add(other_team.group)
    with django_assert_num_queries(1):
        user, _ = user_for_token(plaintext)
        assert roles.user_roles(user) == {roles.DATA_SCIENTIST}
        assert roles.is_team_member(user, team)
        assert not roles.is_service_account(user)
        assert not roles.writes_nothing(user)
        assert [each.slug for each in teams_of(user)] == [
            "credit-risk",
            "recommendations",
        ]
        assert teams_of(user)[0].name == "Credit Risk"
    roles.forget_memberships(user)
    with django_assert_num_queries(2):  # the groups, then the teams
        assert len(teams_of(user)) == 2


def test_forgotten_memberships_are_read_again(data_scientist, other_team):
    assert not roles.is_team_member(data_scientist, other_team)
    data_scientist.groups.add(other_team.group)
    assert not roles.is_team_member(data_scientist, other_team)  # cached
    roles.forget_memberships(data_scientist)
    assert roles.is_team_member(data_scientist, other_team)
    assert roles.user_roles(data_scientist) == {roles.DATA_SCIENTIST}


def test_a_user_in_no_team_and_no_role_writes_nothing(outsider, team):
    assert roles.writes_nothing(outsider)
    outsider.groups.add(team.group)
    roles.forget_memberships(outsider)
    assert not roles.writes_nothing(outsider)
