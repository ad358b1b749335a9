"""The registry's admin pages: readable by auditors and platform admins,
never a way to write around the services."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEvent
from kernel import roles
from models_registry import services
from models_registry.models import (
    Artifact,
    DatasetSnapshot,
    Evaluation,
    FairnessSlice,
    ModelCard,
    ModelCardRevision,
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
    ReproductionCheck,
    TeamReviewer,
    TrainingRun,
)
from tests.models_registry import factories
from tests.models_registry.test_views_models import person

pytestmark = pytest.mark.django_db

REGISTRY_MODELS = [
    RegisteredModel,
    TeamReviewer,
    RegisteredModelUserObjectPermission,
    RegisteredModelGroupObjectPermission,
    DatasetSnapshot,
    TrainingRun,
    Artifact,
    ModelVersion,
    Evaluation,
    FairnessSlice,
    ModelCard,
    ModelCardRevision,
    ReproductionCheck,
]


def _admin_url(model, view, *args):
    meta = model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


@pytest.fixture
def data_scientist(team):
    return person("dana", roles.DATA_SCIENTIST, team=team)


@pytest.fixture
def platform_admin(db):
    return person("pat", roles.PLATFORM_ADMIN, is_staff=True)


@pytest.fixture
def staff(platform_admin):
    return {
        "auditor": person("audrey", roles.AUDITOR, is_staff=True),
        "platform_admin": platform_admin,
    }


@pytest.fixture
def registry(data_scientist, platform_admin, team):
    """One row in every registry table."""
    model = factories.make_model(data_scientist, team, name="credit-scoring")
    version = factories.make_passing_version(data_scientist, model)
    reviewer = person("rita", roles.REVIEWER)
    services.model_reviewer_assign(actor=platform_admin, user=reviewer, team=team)
    return {"model": model, "version": version}


@pytest.mark.parametrize("persona", ["auditor", "platform_admin"])
@pytest.mark.parametrize("model", REGISTRY_MODELS, ids=lambda m: m.__name__)
def test_staff_readers_open_every_changelist_without_write_controls(
    client, staff, registry, persona, model
):
    client.force_login(staff[persona])
    response = client.get(_admin_url(model, "changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert response.context["cl"].result_count >= 1
    assert _admin_url(model, "add") not in body
    assert 'name="action"' not in body  # no "delete selected"
    assert response.context["has_add_permission"] is False


@pytest.mark.parametrize("persona", ["auditor", "platform_admin"])
@pytest.mark.parametrize("model", REGISTRY_MODELS, ids=lambda m: m.__name__)
def test_detail_pages_are_read_only(client, staff, registry, persona, model):
    client.force_login(staff[persona])
    row = model.objects.order_by("pk").first()
    response = client.get(_admin_url(model, "change", row.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="_save"' not in body
    assert _admin_url(model, "delete", row.pk) not in body
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False


@pytest.mark.parametrize("model", REGISTRY_MODELS, ids=lambda m: m.__name__)
def test_writes_through_the_admin_are_refused(client, staff, registry, model):
    client.force_login(staff["platform_admin"])
    row = model.objects.order_by("pk").first()
    rows, events = model.objects.count(), AuditEvent.objects.count()
    assert client.post(_admin_url(model, "add"), {}).status_code == 403
    assert (
        client.post(_admin_url(model, "delete", row.pk), {"post": "yes"}).status_code
        == 403
    )
    response = client.post(
        _admin_url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    # No action is offered, so the changelist is shown again and nothing runs.
    assert response.status_code == 200
    assert model.objects.count() == rows
    assert AuditEvent.objects.count() == events


def test_changing_a_model_through_the_admin_changes_nothing(client, staff, registry):
    client.force_login(staff["platform_admin"])
    model = registry["model"]
    response = client.post(
        _admin_url(RegisteredModel, "change", model.pk),
        {"risk_class": "low", "title": "Changed"},
    )
    assert response.status_code == 403
    model.refresh_from_db()
    assert (model.risk_class, model.title) == ("high", "Credit scoring")


def test_people_without_the_global_view_permission_see_no_registry_admin(
    client, registry, team
):
    staff_scientist = person("stan", roles.DATA_SCIENTIST, team=team, is_staff=True)
    client.force_login(staff_scientist)
    for model in REGISTRY_MODELS:
        assert client.get(_admin_url(model, "changelist")).status_code == 403


def test_changelists_show_only_models_the_user_may_see(
    client, registry, data_scientist, other_team
):
    """A staff member with a table permission still sees only the rows of the
    models the access rules show them."""
    outsider_staff = person(
        "stella", roles.DATA_SCIENTIST, team=other_team, is_staff=True
    )
    outsider_staff.user_permissions.add(
        Permission.objects.get(codename="view_modelversion"),
        Permission.objects.get(codename="view_evaluation"),
    )
    own_model = factories.make_model(outsider_staff, other_team, name="own-recs")
    own_version = factories.make_version(outsider_staff, own_model)
    client.force_login(outsider_staff)
    response = client.get(_admin_url(ModelVersion, "changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own_version]
    version = registry["version"]
    assert client.get(_admin_url(ModelVersion, "change", version.pk)).status_code == 302
    response = client.get(_admin_url(Evaluation, "changelist"))
    assert list(response.context["cl"].result_list) == []


def test_version_changelist_runs_a_fixed_number_of_queries(
    client, staff, data_scientist, team
):
    client.force_login(staff["auditor"])
    url = _admin_url(ModelVersion, "changelist")
    model = factories.make_model(data_scientist, team)
    factories.make_version(data_scientist, model)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for number in range(3):
        other = factories.make_model(data_scientist, team, name=f"bulk-{number}")
        for _ in range(5):
            factories.make_version(data_scientist, other)
    assert count() == few
