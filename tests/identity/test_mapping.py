"""The IdP group mapping: who may change it, bad input, audit, the admin."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from identity.models import GroupMapping
from identity.services import access_sync, group_mapping_create, group_mapping_delete
from kernel import roles
from kernel.errors import InvalidInput, PermissionDenied
from kernel.roles import user_roles

pytestmark = pytest.mark.django_db


def test_platform_admins_map_and_unmap_groups(platform_admin, team):
    mapping = group_mapping_create(
        actor=platform_admin, claim=" gh-reviewers ", role=roles.REVIEWER, team_id=None
    )
    team_mapping = group_mapping_create(
        actor=platform_admin, claim="gh-credit", team_id=team.pk
    )
    assert (mapping.claim, team_mapping.team) == ("gh-reviewers", team)
    group_mapping_delete(actor=platform_admin, mapping_id=mapping.pk)
    assert list(GroupMapping.objects.all()) == [team_mapping]
    actions = list(
        AuditEvent.objects.filter(action__startswith="identity.mapping")
        .order_by("sequence")
        .values_list("action", "actor_text")
    )
    assert actions == [
        ("identity.mapping_created", "pat"),
        ("identity.mapping_created", "pat"),
        ("identity.mapping_deleted", "pat"),
    ]


@pytest.mark.parametrize("persona", ["data_scientist", "reviewer", "auditor"])
def test_others_may_not_change_the_mapping(request, persona, platform_admin):
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        group_mapping_create(actor=actor, claim="g", role=roles.AUDITOR, team_id=None)
    mapping = group_mapping_create(
        actor=platform_admin, claim="g", role=roles.AUDITOR, team_id=None
    )
    with pytest.raises(PermissionDenied):
        group_mapping_delete(actor=actor, mapping_id=mapping.pk)
    assert GroupMapping.objects.count() == 1


def test_bad_mapping_input_changes_nothing(platform_admin, team):
    cases = [
        ({"claim": "", "role": roles.REVIEWER, "team_id": None}, "claim"),
        ({"claim": "x" * 256, "role": roles.REVIEWER, "team_id": None}, "claim"),
        ({"claim": "g\x00", "role": roles.REVIEWER, "team_id": None}, "claim"),
        ({"claim": "g", "role": "emperor", "team_id": None}, "role"),
        ({"claim": "g", "role": "", "team_id": None}, "role"),
        ({"claim": "g", "role": roles.REVIEWER, "team_id": team.pk}, "role"),
        ({"claim": "g", "role": "", "team_id": 999999}, "team"),
    ]
    for arguments, field in cases:
        with pytest.raises(InvalidInput) as refused:
            group_mapping_create(actor=platform_admin, **arguments)
        assert field in refused.value.fields, arguments
    group_mapping_create(
        actor=platform_admin, claim="g", role=roles.REVIEWER, team_id=None
    )
    with pytest.raises(InvalidInput):
        group_mapping_create(
            actor=platform_admin, claim="g", role=roles.REVIEWER, team_id=None
        )
    assert GroupMapping.objects.count() == 1
    assert AuditEvent.objects.filter(action="identity.mapping_created").count() == 1


def test_the_admin_adds_and_deletes_through_the_services(client, platform_admin):
    client.force_login(platform_admin)
    url = reverse("admin:identity_groupmapping_add")
    answer = client.post(url, {"claim": "gh-audit", "role": roles.AUDITOR, "team": ""})
    assert answer.status_code == 302
    mapping = GroupMapping.objects.get()
    assert AuditEvent.objects.filter(action="identity.mapping_created").count() == 1
    refused = client.post(url, {"claim": "gh-x", "role": "", "team": ""})
    assert refused.status_code == 200
    assert GroupMapping.objects.count() == 1
    delete = reverse("admin:identity_groupmapping_delete", args=[mapping.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not GroupMapping.objects.exists()
    assert AuditEvent.objects.filter(action="identity.mapping_deleted").count() == 1


@pytest.mark.parametrize("persona", ["data_scientist", "auditor"])
def test_the_admin_pages_are_for_platform_admins_only(client, request, persona):
    user = request.getfixturevalue(persona)
    user.is_staff = True
    user.save()
    client.force_login(user)
    assert (
        client.get(reverse("admin:identity_groupmapping_changelist")).status_code == 403
    )
    answer = client.post(
        reverse("admin:identity_groupmapping_add"),
        {"claim": "g", "role": roles.PLATFORM_ADMIN, "team": ""},
    )
    assert answer.status_code == 403
    assert not GroupMapping.objects.exists()


def test_sync_takes_a_fixed_number_of_queries(
    platform_admin, outsider, team, other_team, django_assert_max_num_queries
):
    for index, role in enumerate(roles.ROLES):
        group_mapping_create(
            actor=platform_admin, claim=f"g{index}", role=role, team_id=None
        )
    group_mapping_create(actor=platform_admin, claim="t1", team_id=team.pk)
    group_mapping_create(actor=platform_admin, claim="t2", team_id=other_team.pk)
    groups = ["g0", "g1", "g2", "t1"]
    with django_assert_max_num_queries(30):
        access_sync(user=outsider, groups=groups, source="test")
    assert user_roles(outsider) == {
        roles.DATA_SCIENTIST,
        roles.REVIEWER,
        roles.RISK_OFFICER,
    }
    with django_assert_max_num_queries(4):
        access_sync(user=outsider, groups=groups, source="test")
