"""Service accounts approve nothing, whatever roles they are given: not
through the API (decisions, validation sign-off, rollback), not through the
MLflow bridge, not in the rules that build reviewer lists."""

import json

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from approvals import access as approvals_access
from approvals.models import Decision, Deployment, DeploymentRequest, ValidationReport
from kernel import roles
from kernel.models import ApiToken
from kernel.scopes import SCOPE_NAMES, scopes_text
from models_registry import services as registry
from portal.accounts import services
from portal.services import api_token_create, user_groups_set
from tests.approvals.conftest import deploy, submit

pytestmark = pytest.mark.django_db


def token_client(user) -> APIClient:
    client = APIClient()
    _, plaintext = api_token_create(user=user, name="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    return client


@pytest.fixture
def robot(world):
    """A service account of the model's team that an admin has (wrongly) given
    every approving role and assigned as a reviewer of the model."""
    admin = world.users.platform_admin
    account = services.service_account_create(
        actor=admin, name="robot", team_id=world.team.pk
    )
    user = account.user
    groups = list(user.groups.all()) + list(
        Group.objects.filter(
            name__in=[roles.REVIEWER, roles.RISK_OFFICER, roles.VALIDATOR]
        )
    )
    user_groups_set(actor=admin, user=user, groups=groups)
    registry.model_reviewer_assign(actor=admin, user=user, model=world.model)
    return type(user).objects.get(pk=user.pk)


def all_scopes_client(user) -> APIClient:
    """A token that carries every scope, approving ones included (as no
    service can make for a service account): the rule itself must refuse."""
    token, plaintext = api_token_create(user=user, name="forced")
    ApiToken.objects.filter(pk=token.pk).update(scopes=scopes_text(SCOPE_NAMES))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    return client


def test_it_decides_nothing_through_the_api(world, robot):
    request = submit(world)
    normal = token_client(robot)
    response = normal.post(
        f"/api/v1/requests/{request.pk}/decisions",
        {"outcome": "approve"},
        format="json",
    )
    assert response.status_code == 403
    assert "'decisions:write'" in response.json()["message"]
    forced = all_scopes_client(robot)
    response = forced.post(
        f"/api/v1/requests/{request.pk}/decisions",
        {"outcome": "approve"},
        format="json",
    )
    assert response.status_code == 403
    assert "service account approves nothing" in response.json()["message"]
    request.refresh_from_db()
    assert request.status == "pending"
    assert not Decision.objects.exists()
    assert not Deployment.objects.exists()


def test_it_is_never_a_reviewer_in_the_rules(world, robot):
    request = submit(world)
    assert approvals_access.decide_refusal(robot, request, decisions=[]) is not None
    assert not approvals_access.reviewed_models(robot).exists()
    assert robot not in approvals_access.reviewers_of(world.model.pk)
    assert not approvals_access.may_validate(robot, world.version)
    assert not approvals_access.may_roll_back(robot, world.model)
    # The same roles on a person do decide: the refusal is the account's kind.
    assert (
        approvals_access.reviewers_of(world.model.pk)
        .filter(pk=world.users.reviewer.pk)
        .exists()
    )


def test_it_signs_off_no_validation_through_the_api(world, robot):
    forced = all_scopes_client(robot)
    response = forced.post(
        f"/api/v1/versions/{world.version.pk}/validations",
        {"outcome": "passed", "summary": "Looks fine to a robot."},
        format="json",
    )
    assert response.status_code == 403
    assert "approves nothing" in response.json()["message"]
    assert not ValidationReport.objects.exists()


def test_it_rolls_nothing_back_through_the_api(world, robot):
    deployment = deploy(world)
    forced = all_scopes_client(robot)
    response = forced.post(
        f"/api/v1/deployments/{deployment.pk}/rollback",
        {"reason": "Robot thinks so."},
        format="json",
    )
    assert response.status_code == 403
    assert "approves nothing" in response.json()["message"]
    deployment.refresh_from_db()
    assert deployment.status == "active"


def test_through_mlflow_a_governed_alias_only_asks(client, world, robot):
    """A service account may ask for a deployment through a governed alias,
    and never gets it without a person's approval, whatever its roles."""
    _, plaintext = api_token_create(user=robot, name="mlflow")
    response = client.post(
        "/api/2.0/mlflow/registered-models/alias",
        json.dumps({"name": "ranker", "alias": "champion", "version": "1"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plaintext}",
    )
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert "needs approval" in response.json()["message"]
    request = DeploymentRequest.objects.get()
    assert (request.status, request.requested_by_id) == ("pending", robot.pk)
    assert not Deployment.objects.exists()
    assert approvals_access.decide_refusal(robot, request, decisions=[]) is not None
