"""The approvals admin: platform admins edit environments, policies and webhook
endpoints, each save audited; workflow records are read-only."""

import json

import pytest
from django.urls import reverse

from approvals.models import ApprovalPolicy, Environment, WebhookEndpoint
from audit.models import AuditEvent
from tests.approvals.conftest import approvals_state, submit
from tests.approvals.factories import make_endpoint

pytestmark = pytest.mark.django_db


def _events_since(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.order_by("sequence")[before:])


def _signed_in(client, user) -> int:
    client.force_login(user)
    return AuditEvent.objects.count()


def _policy_data(policy, **changes) -> dict:
    data = {
        "required_approvals": str(policy.required_approvals),
        "required_roles": json.dumps(policy.required_roles),
        "gate_items": json.dumps(policy.gate_items),
        "approval_valid_days": str(policy.approval_valid_days),
    }
    if policy.requires_staged_rollout:
        data["requires_staged_rollout"] = "on"
    if policy.big_change_requires_ab:
        data["big_change_requires_ab"] = "on"
    data.update(changes)
    return data


def _medium_staging() -> ApprovalPolicy:
    return ApprovalPolicy.objects.select_related("environment").get(
        risk_class="medium", environment__name="staging"
    )


def test_a_policy_change_in_the_admin_is_audited(client, platform_admin):
    policy = _medium_staging()
    url = reverse("admin:approvals_approvalpolicy_change", args=[policy.pk])
    before = _signed_in(client, platform_admin)
    response = client.post(
        url,
        _policy_data(
            policy,
            required_approvals="2",
            required_roles='["risk_officer"]',
            requires_staged_rollout="on",
        ),
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (
        policy.required_approvals,
        policy.required_roles,
        policy.requires_staged_rollout,
    ) == (2, ["risk_officer"], True)
    [event] = _events_since(before)
    assert event.action == "policy.changed"
    assert event.actor == platform_admin
    assert event.target_type == "approvals.approvalpolicy"
    assert event.target_id == str(policy.pk)
    assert event.payload["diff"] == {
        "required_approvals": [1, 2],
        "required_roles": [[], ["risk_officer"]],
        "requires_staged_rollout": [False, True],
    }
    assert event.payload["policy"]["environment"] == "staging"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"required_roles": '["boss"]'}, "required_roles"),
        ({"required_roles": '"risk_officer"'}, "required_roles"),
        ({"gate_items": '["vibes"]'}, "gate_items"),
        ({"gate_items": "not json"}, "gate_items"),
        ({"required_approvals": "0"}, "required_approvals"),
        ({"approval_valid_days": "0"}, "approval_valid_days"),
        (
            {
                "required_approvals": "1",
                "required_roles": '["reviewer", "risk_officer"]',
            },
            "required_approvals",
        ),
    ],
)
def test_a_bad_policy_is_refused_and_nothing_is_changed_or_audited(
    client, platform_admin, changes, field
):
    policy = _medium_staging()
    url = reverse("admin:approvals_approvalpolicy_change", args=[policy.pk])
    before = _signed_in(client, platform_admin)
    snapshot = list(ApprovalPolicy.objects.order_by("pk").values())
    response = client.post(url, _policy_data(policy, **changes))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert list(ApprovalPolicy.objects.order_by("pk").values()) == snapshot
    assert _events_since(before) == []


def test_an_environment_change_is_audited(client, platform_admin):
    staging = Environment.objects.get(name="staging")
    url = reverse("admin:approvals_environment_change", args=[staging.pk])
    before = _signed_in(client, platform_admin)
    response = client.post(
        url, {"name": "staging", "title": "Staging (EU)", "order": "10"}
    )
    assert response.status_code == 302
    [event] = _events_since(before)
    assert event.action == "environment.changed"
    assert event.payload["diff"] == {"title": ["Staging", "Staging (EU)"]}


def test_a_new_webhook_endpoint_is_audited_without_its_secret(client, platform_admin):
    before = _signed_in(client, platform_admin)
    response = client.post(
        reverse("admin:approvals_webhookendpoint_add"),
        {
            "name": "cd-pipeline",
            "url": "https://cd.example.com/hooks/gatehouse",
            "secret": "s3cr3t-value-0123456789",
            "events": '["deployment."]',
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == "s3cr3t-value-0123456789"
    [event] = _events_since(before)
    assert event.action == "webhook.endpoint_changed"
    assert event.payload["created"] is True
    assert event.payload["secret_changed"] is True
    assert event.payload["endpoint"] == {
        "name": "cd-pipeline",
        "url": "https://cd.example.com/hooks/gatehouse",
        "events": ["deployment."],
        "is_active": True,
    }
    assert "s3cr3t-value-0123456789" not in event.payload_json


def test_editing_a_webhook_endpoint_keeps_a_blank_secret_and_never_shows_it(
    client, platform_admin
):
    endpoint = make_endpoint(
        url="https://cd.example.com/hook", secret="original-secret-0123456789"
    )
    url = reverse("admin:approvals_webhookendpoint_change", args=[endpoint.pk])
    before = _signed_in(client, platform_admin)
    page = client.get(url).content.decode()
    assert "original-secret-0123456789" not in page
    response = client.post(
        url,
        {
            "name": "ci",
            "url": "https://cd.example.com/hook",
            "secret": "",
            "events": "[]",
        },
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.is_active) == (
        "original-secret-0123456789",
        False,
    )
    [event] = _events_since(before)
    assert event.payload["diff"] == {"is_active": [True, False]}
    assert event.payload["secret_changed"] is False
    assert "original-secret" not in event.payload_json


def test_a_webhook_endpoint_needs_a_long_enough_secret(client, platform_admin):
    before = _signed_in(client, platform_admin)
    response = client.post(
        reverse("admin:approvals_webhookendpoint_add"),
        {
            "name": "ci",
            "url": "https://x.example.com/",
            "secret": "short",
            "events": "",
        },
    )
    assert response.status_code == 200
    assert "secret" in response.context["adminform"].form.errors
    assert not WebhookEndpoint.objects.exists()
    assert _events_since(before) == []


@pytest.mark.parametrize(
    "model",
    [
        "deploymentrequest",
        "decision",
        "deployment",
        "validationreport",
        "finding",
        "webhookdelivery",
    ],
)
def test_workflow_records_are_read_only_in_the_admin(client, world, model):
    submit(world)
    client.force_login(world.users.platform_admin)
    assert client.get(reverse(f"admin:approvals_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:approvals_{model}_add")).status_code == 403


def test_a_request_cannot_be_changed_through_the_admin(client, world):
    request_ = submit(world)
    client.force_login(world.users.platform_admin)
    url = reverse("admin:approvals_deploymentrequest_change", args=[request_.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    state = approvals_state()
    response = client.post(url, {"status": "executed", "justification": "x"})
    assert response.status_code == 403
    assert approvals_state() == state


@pytest.mark.parametrize("persona", ["reviewer", "auditor", "data_scientist"])
def test_only_platform_admins_change_policies(client, request, persona):
    user = request.getfixturevalue(persona)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    policy = _medium_staging()
    url = reverse("admin:approvals_approvalpolicy_change", args=[policy.pk])
    before = _signed_in(client, user)
    response = client.post(url, _policy_data(policy, required_approvals="3"))
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.required_approvals == 1
    assert _events_since(before) == []


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"events": '["deployment.exploded"]'}, "events", "Unknown events"),
        ({"events": '{"a": 1}'}, "events", "Give a JSON list of event names"),
        ({"secret": ""}, "secret", "A new endpoint needs a secret."),
    ],
)
def test_a_bad_webhook_endpoint_is_a_form_error_and_nothing_is_saved(
    client, platform_admin, data, field, message
):
    before = _signed_in(client, platform_admin)
    response = client.post(
        reverse("admin:approvals_webhookendpoint_add"),
        {
            "name": "ci",
            "url": "https://x.example.com/",
            "secret": "s" * 20,
            "events": "",
            **data,
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field])
    assert not WebhookEndpoint.objects.exists()
    assert _events_since(before) == []
