"""Fixtures of the monitoring tests: a high-risk credit model live in production
(v2, with v1 as its rollback target), the people around it, token clients, and
builders of prediction batches.

Building that world through the registry and approvals services takes about a
second, so it is built once per test module inside a transaction that stays
open for the module (the pattern of Django's ``TestCase.setUpTestData``): each
test runs in a savepoint of it and is rolled back, and the world is rolled back
after the module. Tests get fresh Python objects of it (``world``).
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from approvals.models import Deployment
from kernel import roles
from kernel.models import Team
from models_registry.models import ModelVersion, RegisteredModel
from portal.services import api_token_create
from tests.approvals import scenarios
from tests.conftest import make_user
from tests.models_registry import factories

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        _, plaintext = api_token_create(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    return client


def _team(name: str, slug: str) -> Team:
    group = Group.objects.create(name=f"team:{slug}")
    return Team.objects.create(name=name, slug=slug, group=group)


def build_world() -> dict:
    """``credit-scoring`` (high risk, features income and region, fairness
    attribute sex, SLO p99 under 150 ms, low-confidence threshold 0.3): v1 then
    v2 deployed in full to staging and production by the approvals services."""
    team = _team("Credit Risk", "credit-risk")
    other_team = _team("Recommendations", "recommendations")
    for environment in ("staging", "production"):
        scenarios.set_policy(
            "high",
            environment,
            required_approvals=1,
            required_roles=[],
            gate_items=[],
            requires_staged_rollout=False,
            big_change_requires_ab=False,
        )
    cast = scenarios.Cast(team)
    for person in (cast.author, cast.requester, cast.reviewer, cast.risk_officer):
        person.email = f"{person.username}@example.com"
        person.save(update_fields=["email"])
    model = factories.make_model(
        cast.author,
        team,
        name="credit-scoring",
        risk_class="high",
        low_confidence_threshold=0.3,
    )
    v1 = factories.make_passing_version(cast.author, model)
    v2 = factories.make_passing_version(cast.author, model)
    scenarios.deploy(cast, v1, env="staging")
    first = scenarios.deploy(cast, v1, env="production")
    scenarios.deploy(cast, v2, env="staging")
    deployment = scenarios.deploy(cast, v2, env="production")
    people = {
        "author": cast.author,
        "requester": cast.requester,
        "teammate": make_user("tess", roles.DATA_SCIENTIST, team=team),
        "reviewer": cast.reviewer,
        "risk_officer": cast.risk_officer,
        "validator": cast.validator,
        "admin": cast.admin,
        "auditor": make_user("audrey", roles.AUDITOR),
        "outsider": make_user("otto"),
        "stranger": make_user("stan", roles.DATA_SCIENTIST, team=other_team),
        # A serving system's account: in the team, no role (tests grant push_data).
        "service": make_user("svc", team=team),
    }
    return {
        "team": team.pk,
        "other_team": other_team.pk,
        "model": model.pk,
        "v1": v1.pk,
        "v2": v2.pk,
        "first": first.pk,
        "deployment": deployment.pk,
        "people": {name: user.pk for name, user in people.items()},
    }


@pytest.fixture(scope="module")
def _world_ids(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_world_ids, db):
    """Fresh objects of the module's world, and a token client for the requester
    (a data scientist of the owning team)."""
    ids = _world_ids
    users = get_user_model().objects.in_bulk(list(ids["people"].values()))
    people = {name: users[pk] for name, pk in ids["people"].items()}
    return SimpleNamespace(
        team=Team.objects.get(pk=ids["team"]),
        other_team=Team.objects.get(pk=ids["other_team"]),
        model=RegisteredModel.objects.get(pk=ids["model"]),
        v1=ModelVersion.objects.get(pk=ids["v1"]),
        v2=ModelVersion.objects.get(pk=ids["v2"]),
        first=Deployment.objects.get(pk=ids["first"]),
        deployment=Deployment.objects.get(pk=ids["deployment"]),
        users=SimpleNamespace(**people),
        client=client_for(people["requester"]),
    )
