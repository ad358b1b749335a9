"""Platform admins configure governed aliases in the Django admin, audited."""

import json

import pytest

from approvals.models import Environment
from audit.models import AuditEvent
from mlflow_bridge.models import GovernedAlias

pytestmark = pytest.mark.django_db
ADD = "/admin/mlflow_bridge/governedalias/add/"
DEFAULT_RULES = 4


def test_defaults_follow_production_and_staging():
    assert set(
        GovernedAlias.objects.values_list("alias", "kind", "environment__name")
    ) == {
        ("champion", "", "production"),
        ("challenger", "", "staging"),
        # Prompts: production and staging are governed too.
        ("production", "prompt", "production"),
        ("staging", "prompt", "staging"),
    }


def test_a_platform_admin_adds_and_changes_one_audited(client, platform_admin):
    client.force_login(platform_admin)
    staging = Environment.objects.get(name="staging")
    response = client.post(ADD, {"alias": "canary-king", "environment": staging.pk})
    assert response.status_code == 302
    governed = GovernedAlias.objects.get(alias="canary-king")
    production = Environment.objects.get(name="production")
    response = client.post(
        f"/admin/mlflow_bridge/governedalias/{governed.pk}/change/",
        {"alias": "canary-king", "environment": production.pk},
    )
    assert response.status_code == 302
    governed.refresh_from_db()
    assert governed.environment == production
    payloads = [
        json.loads(payload)
        for payload in AuditEvent.objects.filter(
            action="mlflow.governed_alias_saved"
        ).values_list("payload_json", flat=True)
    ]
    rule = {"kind": "", "team": None, "model": None, "alias": "canary-king"}
    assert payloads == [
        {"after": {**rule, "environment": "staging"}, "before": {}},
        {
            "after": {**rule, "environment": "production"},
            "before": {**rule, "environment": "staging"},
        },
    ]


@pytest.mark.parametrize("alias", ["latest", "v2", "has space", "champion"])
def test_refuses_reserved_invalid_and_taken_names(client, platform_admin, alias):
    client.force_login(platform_admin)
    staging = Environment.objects.get(name="staging")
    events = AuditEvent.objects.count()
    response = client.post(ADD, {"alias": alias, "environment": staging.pk})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert GovernedAlias.objects.count() == DEFAULT_RULES
    assert AuditEvent.objects.count() == events


def test_others_cannot_configure_them(client, data_scientist):
    data_scientist.is_staff = True
    data_scientist.save()
    client.force_login(data_scientist)
    staging = Environment.objects.get(name="staging")
    response = client.post(ADD, {"alias": "mine", "environment": staging.pk})
    assert response.status_code == 403
    assert GovernedAlias.objects.count() == DEFAULT_RULES
