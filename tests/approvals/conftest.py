"""Fixtures of the approvals API tests: one low-risk model with every persona
around it, token clients for each, and a snapshot of everything a write could
change."""

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from approvals import services
from approvals.models import (
    ApprovalPolicy,
    Decision,
    Deployment,
    DeploymentRequest,
    Environment,
    Finding,
    ValidationReport,
    WebhookDelivery,
)
from audit.models import AuditEvent
from kernel import roles
from models_registry import services as registry
from models_registry.models import ModelVersion
from portal.services import api_token_create
from tests.conftest import make_user
from tests.models_registry import factories

API = "/api/v1/"

# Every persona of the permission matrix; None is the anonymous client.
PERSONAS = (
    "requester",
    "teammate",
    "reviewer",
    "unassigned_reviewer",
    "risk_officer",
    "validator",
    "auditor",
    "platform_admin",
    "outsider",
    "anonymous",
)


def client_for(user) -> APIClient:
    """A client that sends the user's personal API token (anonymous for None)."""
    client = APIClient()
    if user is not None:
        _, plaintext = api_token_create(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    return client


_TABLES = (
    DeploymentRequest,
    Decision,
    Deployment,
    ValidationReport,
    Finding,
    WebhookDelivery,
    ModelVersion,
    AuditEvent,
)


def approvals_state() -> dict:
    """Row counts of the approvals tables, versions and the audit log, and the
    rows a refused write could have changed in place."""
    return {
        "counts": {table._meta.label: table.objects.count() for table in _TABLES},
        "requests": list(DeploymentRequest.objects.order_by("pk").values()),
        "deployments": list(Deployment.objects.order_by("pk").values()),
        "findings": list(Finding.objects.order_by("pk").values()),
        "versions": list(ModelVersion.objects.order_by("pk").values()),
    }


def audit_actions(since: int) -> list[str]:
    return list(
        AuditEvent.objects.order_by("sequence").values_list("action", flat=True)[since:]
    )


@pytest.fixture(autouse=True)
def _receivers_on_loopback(settings):
    """These tests' webhook receivers listen on 127.0.0.1, which a portal
    refuses by default (tests/approvals/test_webhook_addresses.py)."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def fast_passwords(settings):
    """Persona users get passwords; hashing them the production way takes half
    a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def world(
    fast_passwords,
    team,
    other_team,
    data_scientist,
    reviewer,
    risk_officer,
    validator,
    auditor,
    platform_admin,
    outsider,
):
    """A low-risk model ``ranker`` of the credit-risk team, whose staging policy
    needs one approval and two checklist gates, and everyone around it:

    * ``requester`` (dana) submits requests; ``author`` (ava, also a reviewer of
      the model) registers the versions; ``teammate`` is a third team member;
    * ``reviewer``, ``risk_officer`` and ``validator`` are assigned to the model;
      ``unassigned_reviewer`` is not; ``stranger`` is a data scientist of another
      team; auditor, platform admin and outsider complete the cast.
    """
    ApprovalPolicy.objects.filter(risk_class="low").update(
        gate_items=["success_metrics_defined", "artifact_pinned"],
        required_approvals=1,
        required_roles=[],
        requires_staged_rollout=False,
        big_change_requires_ab=False,
    )
    author = make_user(
        "ava", roles.DATA_SCIENTIST, roles.REVIEWER, team=team, email="ava@example.com"
    )
    teammate = make_user(
        "tom", roles.DATA_SCIENTIST, team=team, email="tom@example.com"
    )
    unassigned = make_user("una", roles.REVIEWER, email="una@example.com")
    stranger = make_user(
        "sam", roles.DATA_SCIENTIST, team=other_team, email="sam@example.com"
    )
    for person, address in (
        (data_scientist, "dana@example.com"),
        (reviewer, "rey@example.com"),
        (risk_officer, "rio@example.com"),
        (validator, "val@example.com"),
    ):
        person.email = address
        person.save(update_fields=["email"])
    model = factories.make_model(
        author,
        team,
        name="ranker",
        risk_class="low",
        regulatory_tier="minimal",
        serving_mode="batch",
        latency_slo_ms=None,
    )
    for person in (author, reviewer, risk_officer, validator):
        registry.model_reviewer_assign(actor=platform_admin, user=person, model=model)
    users = {
        "requester": data_scientist,
        "author": author,
        "teammate": teammate,
        "reviewer": reviewer,
        "unassigned_reviewer": unassigned,
        "risk_officer": risk_officer,
        "validator": validator,
        "auditor": auditor,
        "platform_admin": platform_admin,
        "outsider": outsider,
        "stranger": stranger,
    }
    clients = {name: client_for(user) for name, user in users.items()}
    clients["anonymous"] = APIClient()
    return SimpleNamespace(
        model=model,
        team=team,
        staging=Environment.objects.get(name="staging"),
        production=Environment.objects.get(name="production"),
        users=SimpleNamespace(**users),
        clients=clients,
        version=factories.make_version(author, model, semantic_version="1.0.0"),
    )


def submit(world, version=None, *, actor=None, environment="staging", **extra):
    """A request through the service (the API tests check the API separately)."""
    values = {"strategy": "full", "justification": "Better recall on 2024 data."}
    values.update(extra)
    return services.deployment_request_submit(
        actor=actor or world.users.requester,
        version=version or world.version,
        environment=Environment.objects.get(name=environment),
        **values,
    )


def deploy(world, version=None, **extra) -> Deployment:
    """Submit and approve (one approval executes on the low-risk staging policy)."""
    request = submit(world, version, **extra)
    _, deployment = services.decision_record(
        actor=world.users.reviewer, request_id=request.pk, outcome="approve"
    )
    assert deployment is not None
    return deployment


def new_version(world, **overrides):
    return factories.make_version(world.users.author, world.model, **overrides)
