import pytest

from approvals import notifications, selectors, services
from approvals.errors import (
    ApprovalInvalid,
    ApprovalPermissionDenied,
    DeploymentNotActive,
    NoRollbackTarget,
)
from approvals.models import ApprovalPolicy, Deployment
from audit.models import AuditEvent
from tests.approvals import scenarios
from tests.models_registry import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(team):
    ApprovalPolicy.objects.filter(risk_class="low").update(
        gate_items=[], requires_staged_rollout=False, big_change_requires_ab=False
    )
    return scenarios.Cast(team)


@pytest.fixture
def two_deployments(cast):
    model, v1 = scenarios.passing_model(cast, risk_class="low", name="ranker")
    v2 = factories.make_passing_version(cast.author, model)
    first = scenarios.deploy(cast, v1)
    second = scenarios.deploy(cast, v2)
    return model, first, second


def test_a_new_full_deployment_supersedes_and_records_its_target(two_deployments):
    _, first, second = two_deployments
    first.refresh_from_db()
    assert first.status == "superseded"
    assert first.ended_at == second.started_at
    assert second.rollback_target == first
    assert first.rollback_target is None
    assert second.artifact_sha256 == second.version.artifact.sha256


def test_rollback_restores_the_target_atomically(cast, two_deployments):
    model, first, second = two_deployments
    _rolled_back, restored = services.deployment_rollback(
        actor=cast.requester, deployment_id=second.pk, reason="Latency doubled"
    )
    second.refresh_from_db()
    assert (second.status, second.end_reason, second.ended_by) == (
        "rolled_back",
        "Latency doubled",
        cast.requester,
    )
    assert (restored.version, restored.status, restored.source) == (
        first.version,
        "active",
        "rollback",
    )
    assert restored.restores == first
    assert restored.artifact_sha256 == first.artifact_sha256
    event = AuditEvent.objects.get(action="deployment.rolled_back")
    assert event.payload["emergency"] is True
    assert event.payload["restored"]["sha256"] == first.artifact_sha256
    assert Deployment.objects.filter(model=model, status="active").count() == 1


def test_rollback_without_a_target_says_so(cast, two_deployments):
    _, _first, second = two_deployments
    _, restored = services.deployment_rollback(
        actor=cast.requester, deployment_id=second.pk, reason="bad"
    )
    with pytest.raises(NoRollbackTarget, match="no earlier deployment to go back to"):
        services.deployment_rollback(
            actor=cast.requester, deployment_id=restored.pk, reason="again"
        )
    restored.refresh_from_db()
    assert restored.status == "active"


def test_only_live_deployments_roll_back(cast, two_deployments):
    _, first, _ = two_deployments
    with pytest.raises(DeploymentNotActive):
        services.deployment_rollback(
            actor=cast.requester, deployment_id=first.pk, reason="x"
        )


def test_rollback_needs_a_reason_and_the_right(
    cast, two_deployments, outsider, auditor
):
    _, _, second = two_deployments
    with pytest.raises(ApprovalInvalid) as caught:
        services.deployment_rollback(
            actor=cast.requester, deployment_id=second.pk, reason=" "
        )
    assert "reason" in caught.value.fields
    with pytest.raises(ApprovalPermissionDenied):
        services.deployment_rollback(
            actor=cast.reviewer, deployment_id=second.pk, reason="x"
        )
    with pytest.raises(ApprovalPermissionDenied):
        services.deployment_rollback(actor=auditor, deployment_id=second.pk, reason="x")
    from approvals.errors import DeploymentNotFound

    with pytest.raises(DeploymentNotFound):
        services.deployment_rollback(
            actor=outsider, deployment_id=second.pk, reason="x"
        )
    second.refresh_from_db()
    assert second.status == "active"


def test_risk_officer_may_roll_back_in_an_emergency(cast, two_deployments):
    _, _, second = two_deployments
    rolled_back, _ = services.deployment_rollback(
        actor=cast.risk_officer, deployment_id=second.pk, reason="Complaints"
    )
    assert rolled_back.status == "rolled_back"


def test_a_failure_during_rollback_changes_nothing(cast, two_deployments, monkeypatch):
    _, _first, second = two_deployments

    def explode(*args, **kwargs):
        raise RuntimeError("notification outbox unavailable")

    monkeypatch.setattr(notifications, "notify_deployment_rolled_back", explode)
    before = (Deployment.objects.count(), AuditEvent.objects.count())
    with pytest.raises(RuntimeError):
        services.deployment_rollback(
            actor=cast.requester, deployment_id=second.pk, reason="x"
        )
    second.refresh_from_db()
    assert second.status == "active"
    assert (Deployment.objects.count(), AuditEvent.objects.count()) == before


def test_what_was_live_at_a_past_moment(cast, two_deployments):
    model, first, second = two_deployments
    services.deployment_rollback(
        actor=cast.requester, deployment_id=second.pk, reason="bad"
    )

    def live(at=None):
        _, _, deployments, etag = selectors.live_at(
            actor=cast.requester,
            model_name=model.name,
            environment_name="staging",
            at=at,
        )
        return [d.version.version for d in deployments], etag

    assert live(first.started_at)[0] == [1]
    assert live(second.started_at)[0] == [2]
    now_versions, now_etag = live()
    assert now_versions == [1]
    assert live()[1] == now_etag
    assert live(first.started_at)[1] != now_etag


def test_canary_beside_the_full_deployment_and_its_rollback(cast):
    model, v1 = scenarios.passing_model(cast, risk_class="low", name="ranker")
    v2 = factories.make_passing_version(cast.author, model)
    full = scenarios.deploy(cast, v1)
    canary = scenarios.deploy(cast, v2, strategy="canary", traffic_percent=10)
    full.refresh_from_db()
    assert (full.status, canary.status, canary.rollback_target) == (
        "active",
        "active",
        full,
    )
    _, restored = services.deployment_rollback(
        actor=cast.requester, deployment_id=canary.pk, reason="x"
    )
    assert restored is None  # traffic returns to the full deployment, still live
    full.refresh_from_db()
    assert full.status == "active"


def test_the_database_allows_one_active_full_deployment(cast, two_deployments):
    from django.db import IntegrityError, transaction

    _, first, _second = two_deployments
    with pytest.raises(IntegrityError), transaction.atomic():
        Deployment.objects.filter(pk=first.pk).update(status="active", ended_at=None)
