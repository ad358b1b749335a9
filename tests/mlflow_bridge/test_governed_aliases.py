"""Governed aliases end to end: the MLflow client asks, reviewers approve in
Gatehouse, the alias follows the deployment, a rollback moves it back.

The default policies apply unchanged (low risk: one approval; staging needs
success metrics and a pinned artifact; production also needs met offline
metrics, a complete card, no leakage and a deployment to staging first), so
each version is built to pass them through the registry's services.
"""

import json
from datetime import UTC, datetime

import pytest
from mlflow.exceptions import RestException

from approvals import services as approvals
from approvals.models import Deployment, DeploymentRequest
from audit.models import AuditEvent
from mlflow_bridge.models import GovernedAlias
from models_registry import services as registry
from models_registry.models import ModelVersion, RegisteredModel
from tests.approvals import scenarios
from tests.mlflow_bridge.conftest import sha_tags
from tests.models_registry import factories

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "https://gatehouse.example.com"


@pytest.fixture
def cast(team, settings):
    settings.PORTAL_BASE_URL = BASE
    return scenarios.Cast(team)


@pytest.fixture
def author(client_for, cast):
    """The version's author, registering through MLflow."""
    client = client_for(cast.author)
    client.create_registered_model("ranker", tags={"gatehouse.risk_class": "low"})
    registry.model_update(
        actor=cast.author,
        model=RegisteredModel.objects.get(name="ranker"),
        offline_success_metrics=[
            {"metric": "auc", "direction": "higher", "threshold": 0.75}
        ],
        online_success_metrics=[
            {"kpi": "ctr", "direction": "higher", "threshold": 0.02}
        ],
    )
    return client


def deployable_version(cast, client, number: int) -> ModelVersion:
    """Register version ``number`` through MLflow with what the gates check."""
    model = RegisteredModel.objects.get(name="ranker")
    train = factories.make_snapshot(
        cast.author,
        cast.team,
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2023, 12, 31, tzinfo=UTC),
    )
    test = factories.make_snapshot(
        cast.author,
        cast.team,
        start=datetime(2024, 1, 1, tzinfo=UTC),
        end=datetime(2024, 12, 31, tzinfo=UTC),
    )
    run = factories.make_run(
        cast.author, model, inputs=[(train, "train"), (test, "test")]
    )
    client.create_model_version(
        "ranker",
        f"s3://models/ranker/{number}",
        run_id=run.external_run_id,
        tags={
            **sha_tags(f"ranker-{number}"),
            "gatehouse.preprocessing_code_version": "prep-2.0.1",
            "gatehouse.feature_spec": json.dumps(
                [{"name": "clicks", "type": "numeric"}]
            ),
        },
    )
    version = ModelVersion.objects.get(model=model, version=number)
    registry.model_card_update(
        actor=cast.author, version=version, **factories.FULL_CARD
    )
    registry.evaluation_record(
        actor=cast.author,
        version=version,
        split="test",
        dataset=test,
        metrics={"auc": 0.8},
    )
    return version


def refused_with_request(client, alias: str, number: int) -> DeploymentRequest:
    with pytest.raises(RestException) as caught:
        client.set_registered_model_alias("ranker", alias, str(number))
    assert caught.value.error_code == "PERMISSION_DENIED"
    request = DeploymentRequest.objects.order_by("-pk").first()
    assert f"{BASE}/approvals/requests/{request.pk}/" in caught.value.message
    assert f"'{alias}' is a governed alias" in caught.value.message
    return request


def approve(cast, request: DeploymentRequest) -> Deployment:
    _, deployment = approvals.decision_record(
        actor=cast.reviewer, request_id=request.pk, outcome="approve"
    )
    assert deployment is not None, request.final_gate_results
    return deployment


def test_governed_alias_flow_end_to_end(cast, author, client_for):
    requester = client_for(cast.requester)
    v1 = deployable_version(cast, author, 1)

    staging_request = refused_with_request(requester, "challenger", 1)
    assert (
        staging_request.version,
        staging_request.environment.name,
        staging_request.strategy,
        staging_request.status,
        staging_request.requested_by,
    ) == (v1, "staging", "full", "pending", cast.requester)
    assert "governed MLflow alias 'challenger'" in staging_request.justification
    assert "mlflow-python-client" in staging_request.justification
    # Asking again points at the same request; nothing new is opened.
    assert refused_with_request(requester, "challenger", 1) == staging_request
    assert DeploymentRequest.objects.count() == 1
    with pytest.raises(RestException) as caught:
        requester.get_model_version_by_alias("ranker", "challenger")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "no version of ranker is live there" in caught.value.message

    approve(cast, staging_request)
    assert requester.get_model_version_by_alias("ranker", "challenger").version == "1"
    production_request = refused_with_request(requester, "champion", 1)
    assert production_request.environment.name == "production"
    approve(cast, production_request)
    champion = requester.get_model_version_by_alias("ranker", "champion")
    assert (champion.version, champion.current_stage, sorted(champion.aliases)) == (
        "1",
        "Production",
        ["challenger", "champion"],
    )

    v2 = deployable_version(cast, author, 2)
    approve(cast, refused_with_request(requester, "challenger", 2))
    assert requester.get_model_version_by_alias("ranker", "challenger").version == "2"
    assert requester.get_model_version_by_alias("ranker", "champion").version == "1"
    production_v2 = approve(cast, refused_with_request(requester, "champion", 2))
    assert production_v2.version == v2
    assert requester.get_model_version_by_alias("ranker", "champion").version == "2"
    model = requester.get_registered_model("ranker")
    assert model.aliases == {"challenger": "2", "champion": "2"}
    assert [(v.version, v.current_stage) for v in model.latest_versions] == [
        ("1", "None"),
        ("2", "Production"),
    ]
    # Setting it to what is already live changes nothing.
    requester.set_registered_model_alias("ranker", "champion", "2")
    assert DeploymentRequest.objects.count() == 4

    approvals.deployment_rollback(
        actor=cast.requester, deployment_id=production_v2.pk, reason="CTR dropped"
    )
    champion = requester.get_model_version_by_alias("ranker", "champion")
    assert (champion.version, champion.current_stage) == ("1", "Production")
    assert requester.get_model_version_by_alias("ranker", "challenger").version == "2"

    events = AuditEvent.objects.count()
    with pytest.raises(RestException) as caught:
        requester.delete_registered_model_alias("ranker", "champion")
    assert caught.value.error_code == "PERMISSION_DENIED"
    assert "roll the deployment back in Gatehouse" in caught.value.message
    assert AuditEvent.objects.count() == events
    submitted = AuditEvent.objects.filter(action="request.submitted").count()
    assert submitted == 4


def test_only_the_owning_team_can_ask_for_a_governed_alias(cast, author, client_for):
    deployable_version(cast, author, 1)
    reviewer = client_for(cast.reviewer)
    events = AuditEvent.objects.count()
    with pytest.raises(RestException) as caught:
        reviewer.set_registered_model_alias("ranker", "champion", "1")
    assert caught.value.error_code == "PERMISSION_DENIED"
    assert "Only the team that owns" in caught.value.message
    assert not DeploymentRequest.objects.exists()
    assert AuditEvent.objects.count() == events


def test_governed_aliases_are_configurable(cast, author, client_for, platform_admin):
    """A platform admin makes 'shadow-king' govern staging; 'champion' becomes a
    free alias once its configuration is removed."""
    from approvals.models import Environment
    from mlflow_bridge import services

    deployable_version(cast, author, 1)
    services.governed_alias_save(
        actor=platform_admin,
        governed=GovernedAlias(),
        alias="shadow-king",
        environment=Environment.objects.get(name="staging"),
    )
    services.governed_alias_delete(
        actor=platform_admin, governed=GovernedAlias.objects.get(alias="champion")
    )
    refused_with_request(client_for(cast.requester), "shadow-king", 1)
    author.set_registered_model_alias("ranker", "champion", "1")
    assert author.get_model_version_by_alias("ranker", "champion").version == "1"
    assert list(
        AuditEvent.objects.filter(action__startswith="mlflow.governed_alias")
        .order_by("sequence")
        .values_list("action", flat=True)
    ) == ["mlflow.governed_alias_saved", "mlflow.governed_alias_deleted"]
