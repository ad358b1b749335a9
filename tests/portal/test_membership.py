import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import AuditEvent
from kernel import roles
from kernel.errors import PermissionDenied
from portal.services import team_create, user_groups_set

pytestmark = pytest.mark.django_db


def test_role_and_team_changes_are_audited(platform_admin, outsider, team):
    reviewer_group = Group.objects.get(name=roles.REVIEWER)
    user_groups_set(
        actor=platform_admin, user=outsider, groups=[reviewer_group, team.group]
    )
    user_groups_set(actor=platform_admin, user=outsider, groups=[team.group])
    events = [(e.action, e.payload) for e in AuditEvent.objects.order_by("sequence")]
    assert events == [
        ("role.granted", {"role": "reviewer", "user": "otto"}),
        ("team.member_added", {"team": "credit-risk", "user": "otto"}),
        ("role.revoked", {"role": "reviewer", "user": "otto"}),
    ]
    assert set(outsider.groups.values_list("name", flat=True)) == {"team:credit-risk"}


@pytest.mark.parametrize(
    "persona", ["data_scientist", "reviewer", "risk_officer", "auditor"]
)
def test_only_platform_admins_change_membership(request, persona, outsider):
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        user_groups_set(
            actor=actor,
            user=outsider,
            groups=[Group.objects.get(name=roles.RISK_OFFICER)],
        )
    assert outsider.groups.count() == 0
    assert AuditEvent.objects.count() == 0


def test_admin_user_form_records_membership(client, platform_admin, outsider):
    client.force_login(platform_admin)
    url, data = _user_form_data(client, outsider)
    data["groups"] = [Group.objects.get(name=roles.VALIDATOR).pk]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.get(action="role.granted")
    assert event.actor_id == platform_admin.pk
    assert event.payload == {"role": "validator", "user": "otto"}


def test_team_create(platform_admin):
    created = team_create(actor=platform_admin, name="Fraud Detection")
    assert created.slug == "fraud-detection"
    assert created.group.name == "team:fraud-detection"
    assert AuditEvent.objects.get().action == "team.created"


@pytest.mark.parametrize("name", ["", "   ", "reviewer"])
def test_team_create_refuses_bad_names(platform_admin, name):
    from kernel.errors import ServiceError
    from kernel.models import Team

    with pytest.raises(ServiceError):
        team_create(actor=platform_admin, name=name)
    assert Team.objects.count() == 0


def test_seed_demo_twice_duplicates_nothing(tmp_path, settings, capsys):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from kernel.models import Team

    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    first_out = capsys.readouterr().out
    counts = (
        get_user_model().objects.count(),
        Team.objects.count(),
        AuditEvent.objects.count(),
    )
    call_command("seed_demo")
    second_out = capsys.readouterr().out
    assert counts == (
        get_user_model().objects.count(),
        Team.objects.count(),
        AuditEvent.objects.count(),
    )
    assert counts[0] == 7 + 1  # the people and the team's service account
    assert first_out == second_out  # same people, same passwords
    # A database other than the demo's embedded one keeps its own passwords.
    from django.db import connection

    [kept] = tmp_path.glob("demo-credentials*.txt")
    assert kept.name == (
        f"demo-credentials-postgresql-127001-{connection.settings_dict['NAME']}.txt"
    )
    assert set(
        get_user_model()
        .objects.get(username="pat")
        .groups.values_list("name", flat=True)
    ) == {"platform_admin"}
    assert get_user_model().objects.get(username="pat").is_staff


def _user_form_data(client, user) -> tuple[str, dict]:
    url = reverse("admin:auth_user_change", args=[user.pk])
    form = client.get(url).context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and key not in {"groups", "user_permissions", "password"}
    }
    data.update(
        {
            "groups": [group.pk for group in user.groups.all()],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        }
    )
    return url, data


def test_every_admin_change_to_a_person_is_audited(client, platform_admin, outsider):
    from django.contrib.auth.models import Permission

    client.force_login(platform_admin)
    url, data = _user_form_data(client, outsider)
    view_audit = Permission.objects.get(
        content_type__app_label="audit", codename="view_auditevent"
    )
    data.update(is_staff="on", user_permissions=[view_audit.pk], is_superuser="on")
    before = AuditEvent.objects.count()
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    events = {
        e.action: e.payload for e in AuditEvent.objects.filter(sequence__gt=before)
    }
    updated = events["user.updated"]
    assert "is_staff" in updated["changed"]
    assert "is_superuser" not in updated["changed"]
    assert (updated["user"], updated["is_staff"]) == ("otto", True)
    assert events["permission.granted"] == {
        "permission": "audit.view_auditevent",
        "user": "otto",
    }
    outsider.refresh_from_db()
    # Only superusers make superusers: the field is read-only for this admin.
    assert outsider.is_staff
    assert not outsider.is_superuser
    password_url = reverse("admin:auth_user_password_change", args=[outsider.pk])
    new_password = "another correct horse battery"
    response = client.post(
        password_url, {"password1": new_password, "password2": new_password}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.order_by("-sequence").first()
    assert (event.action, event.payload) == ("user.password_set", {"user": "otto"})
    assert new_password not in event.payload_json


def test_user_create_refuses_a_taken_name_and_a_non_admin(platform_admin, outsider):
    from kernel.errors import PermissionDenied as ServicePermissionDenied
    from kernel.errors import ServiceError
    from portal.services import user_create

    before = AuditEvent.objects.count()
    with pytest.raises(ServiceError) as taken:
        user_create(actor=platform_admin, username="otto", password=None)
    assert taken.value.fields == {"username": ["Taken."]}
    with pytest.raises(ServicePermissionDenied):
        user_create(actor=outsider, username="newbie", password=None)
    assert AuditEvent.objects.count() == before
