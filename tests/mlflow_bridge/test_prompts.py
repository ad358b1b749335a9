"""MLflow's prompt API (``mlflow.genai``), unmodified, against Gatehouse on a
live server: registration by content, loading by number, alias and @latest,
searches and tags, the clean-up of a refused first registration, governed
aliases that open deployment requests, approval and rollback.

The approval gates made for prompts belong to the LLM evaluations; here the
low-risk policies ask for no checklist gate, so a request passes on its
approvals alone and the alias mechanics are what is tested.
"""

import json
import threading

import mlflow
import pytest
import requests
from mlflow.exceptions import MlflowException, RestException

from approvals import services as approvals
from approvals.models import ApprovalPolicy, DeploymentRequest
from audit.models import AuditEvent
from models_registry.models import (
    EntryKind,
    ModelVersion,
    PromptContent,
    RegisteredModel,
)
from models_registry.selectors import prompt_version_content
from tests.approvals import scenarios
from tests.mlflow_bridge.conftest import credentials, token_for
from tests.models_registry import factories

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "https://gatehouse.example.com"
GREETING = "Hello {{customer}}, about your {{topic}}: how can I help?"
CHAT = [
    {"role": "system", "content": "You are a {{tone}} support assistant."},
    {"role": "user", "content": "{{question}}"},
]


@pytest.fixture
def cast(team, settings, mlflow_url, monkeypatch):
    settings.PORTAL_BASE_URL = BASE
    # Every load asks the server (the client caches aliases for a minute).
    monkeypatch.setenv("MLFLOW_ALIAS_PROMPT_CACHE_TTL_SECONDS", "0")
    monkeypatch.setenv("MLFLOW_VERSION_PROMPT_CACHE_TTL_SECONDS", "0")
    ApprovalPolicy.objects.filter(risk_class="low").update(
        gate_items=[], requires_staged_rollout=False, big_change_requires_ab=False
    )
    yield scenarios.Cast(team)
    # The client tags a prompt with the active experiment from a background
    # thread after registering or loading it: let those calls end before the
    # database is emptied.
    for thread in threading.enumerate():
        if thread.name.startswith("link_prompt_to_experiment_thread"):
            thread.join(timeout=30)


def as_person(user):
    return credentials(MLFLOW_TRACKING_TOKEN=token_for(user))


def register(user, name="greeting", template=GREETING, **kwargs):
    with as_person(user):
        return mlflow.genai.register_prompt(
            name=name,
            template=template,
            tags={"gatehouse.risk_class": "low", **kwargs.pop("tags", {})},
            **kwargs,
        )


def test_register_load_search_and_tags(cast, mlflow_url):
    first = register(
        cast.author,
        commit_message="First greeting",
        model_config={"provider": "openai", "model_name": "gpt-4.1", "temperature": 0},
        tags={"channel": "email"},
    )
    assert (first.name, first.version, first.commit_message) == (
        "greeting",
        1,
        "First greeting",
    )
    entry = RegisteredModel.objects.get(name="greeting")
    assert (entry.kind, entry.risk_class, entry.team) == ("prompt", "low", cast.team)
    version = ModelVersion.objects.get(model=entry, version=1)
    assert version.prompt.variables == ["customer", "topic"]
    assert version.artifact.sha256 == version.prompt.content_hash
    assert prompt_version_content(version) == GREETING
    chat = register(
        cast.author, template=CHAT, response_format={"type": "object"}, tags={}
    )
    assert chat.version == 2
    assert prompt_version_content(ModelVersion.objects.get(model=entry, version=2)) == (
        "System:\nYou are a {{tone}} support assistant.\n\nUser:\n{{question}}"
    )

    with as_person(cast.requester):
        loaded = mlflow.genai.load_prompt("prompts:/greeting/1")
        assert loaded.template == GREETING
        assert loaded.format(customer="Ada", topic="loan") == (
            "Hello Ada, about your loan: how can I help?"
        )
        assert loaded.model_config["model_name"] == "gpt-4.1"
        latest = mlflow.genai.load_prompt("prompts:/greeting@latest")
        assert (latest.version, latest.template) == (2, CHAT)
        assert latest.response_format == {"type": "object"}
        assert latest.format(tone="kind", question="Why?")[0]["content"] == (
            "You are a kind support assistant."
        )
        mlflow.genai.set_prompt_alias("greeting", alias="beta", version=1)
        assert mlflow.genai.load_prompt("prompts:/greeting@beta").version == 1
        mlflow.genai.delete_prompt_alias("greeting", alias="beta")
        with pytest.raises(MlflowException):
            mlflow.genai.load_prompt("prompts:/greeting@beta")

        found = mlflow.genai.search_prompts()
        assert [prompt.name for prompt in found] == ["greeting"]
        assert found[0].tags["channel"] == "email"
        client = mlflow.MlflowClient()
        assert client.get_prompt("greeting").name == "greeting"
        assert client.get_prompt_version("greeting", 1).template == GREETING
        versions = client.search_prompt_versions("greeting")
        assert [v.version for v in versions] == [2, 1]
        client.set_prompt_tag("greeting", "owner", "support")
        client.set_prompt_version_tag("greeting", 1, "reviewed", "yes")
        assert client.get_prompt("greeting").tags["owner"] == "support"
        assert client.get_prompt_version("greeting", 1).tags["reviewed"] == "yes"
        # The model config is part of the version's identity: setting the same
        # one changes nothing, another one is refused (register a new version).
        mlflow.genai.set_prompt_model_config(
            "greeting",
            1,
            {"provider": "openai", "model_name": "gpt-4.1", "temperature": 0},
        )
        with pytest.raises(MlflowException) as caught:
            mlflow.genai.set_prompt_model_config("greeting", 1, {"model_name": "gpt-5"})
        assert "immutable" in caught.value.message

        # Prompts stay out of model searches, server side too.
        assert mlflow.search_registered_models() == []
        assert client.search_model_versions("name = 'greeting'") == []
    token = {"Authorization": f"Bearer {token_for(cast.requester)}"}
    for path, key in (
        ("registered-models/search", "registered_models"),
        ("model-versions/search", "model_versions"),
    ):
        answer = requests.get(
            f"{mlflow_url}/api/2.0/mlflow/{path}", headers=token, timeout=30
        )
        assert answer.json().get(key, []) == []


def test_the_same_content_is_the_same_version(cast):
    assert register(cast.author, commit_message="one").version == 1
    again = register(cast.author, commit_message="again")
    assert again.version == 1
    other = register(cast.author, template=GREETING + " ")
    assert other.version == 2
    config = register(cast.author, model_config={"temperature": 0.3})
    assert config.version == 3
    assert PromptContent.objects.count() == 3
    assert RegisteredModel.objects.get(name="greeting").last_version_number == 3


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hello {{customer", "malformed"),
        ("   ", "empty"),
        ([{"role": "wizard", "content": "hi"}], "role"),
        ("Use AKIAABCDEFGHIJKLMNOP to log in", "credentials"),
        ("Connect to postgres://app:hunter22@db:5432/x", "credentials"),
    ],
)
def test_bad_templates_are_refused_and_leave_nothing(cast, template, expected):
    with pytest.raises(MlflowException) as caught:
        register(cast.author, template=template)
    assert expected in caught.value.message
    # The client's clean-up removed the empty prompt it had created.
    assert not RegisteredModel.objects.filter(name="greeting").exists()
    assert not ModelVersion.objects.exists()
    actions = list(
        AuditEvent.objects.filter(scope="greeting")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == ["model.registered", "prompt.discarded"]
    # And a later try works.
    assert register(cast.author).version == 1


def test_a_template_that_asks_for_a_password_is_no_secret(cast):
    template = "Reset: the user typed password: {{password}} and {{api_key}}"
    assert register(cast.author, template=template).version == 1
    with pytest.raises(MlflowException) as caught:
        register(cast.author, template="The password: hunter2-secret-value")
    assert "credentials" in caught.value.message
    assert RegisteredModel.objects.get(name="greeting").last_version_number == 1


def test_another_team_sees_nothing(cast, other_team):
    from kernel import roles
    from tests.conftest import make_user

    register(cast.author)
    with as_person(make_user("olga", roles.DATA_SCIENTIST, team=other_team)):
        with pytest.raises(MlflowException) as caught:
            mlflow.genai.load_prompt("prompts:/greeting/1")
        assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
        assert mlflow.genai.search_prompts() == []
        with pytest.raises(RestException) as caught:
            mlflow.MlflowClient().delete_registered_model("greeting")
        assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_a_prompt_with_versions_is_not_deleted(cast):
    register(cast.author)
    with as_person(cast.author), pytest.raises(MlflowException) as caught:
        mlflow.MlflowClient().delete_prompt("greeting")
    assert caught.value.error_code == "PERMISSION_DENIED"
    assert RegisteredModel.objects.filter(name="greeting").exists()


def refused(user, alias: str, version: int) -> DeploymentRequest:
    with as_person(user), pytest.raises(MlflowException) as caught:
        mlflow.genai.set_prompt_alias("greeting", alias=alias, version=version)
    assert caught.value.error_code == "PERMISSION_DENIED"
    request = DeploymentRequest.objects.order_by("-pk").first()
    assert f"{BASE}/approvals/requests/{request.pk}/" in caught.value.message
    assert request.version.version == version
    return request


def approve(cast, request):
    _, deployment = approvals.decision_record(
        actor=cast.reviewer, request_id=request.pk, outcome="approve"
    )
    assert deployment is not None, request.final_gate_results
    return deployment


def live(user, alias: str) -> int:
    with as_person(user):
        return mlflow.genai.load_prompt(f"prompts:/greeting@{alias}").version


def test_governed_aliases_approval_and_rollback(cast):
    register(cast.author)
    staging = refused(cast.requester, "staging", 1)
    assert staging.environment.name == "staging"
    assert refused(cast.requester, "challenger", 1).environment.name == "staging"
    with as_person(cast.requester), pytest.raises(MlflowException):
        mlflow.genai.load_prompt("prompts:/greeting@production")
    approve(cast, staging)
    assert live(cast.requester, "staging") == 1
    assert live(cast.requester, "challenger") == 1
    production = refused(cast.requester, "production", 1)
    assert production.environment.name == "production"
    assert refused(cast.requester, "champion", 1) == production
    approve(cast, production)
    assert live(cast.requester, "production") == 1
    assert live(cast.requester, "champion") == 1

    register(cast.author, template=GREETING + " Thanks!")
    approve(cast, refused(cast.requester, "staging", 2))
    deployment = approve(cast, refused(cast.requester, "production", 2))
    assert live(cast.requester, "production") == 2
    approvals.deployment_rollback(
        actor=cast.requester, deployment_id=deployment.pk, reason="tone complaints"
    )
    assert live(cast.requester, "production") == 1
    # Free aliases stay free.
    with as_person(cast.requester):
        mlflow.genai.set_prompt_alias("greeting", alias="candidate", version=2)
    assert live(cast.requester, "candidate") == 2


def test_governed_aliases_are_per_kind_team_and_entry(cast, platform_admin):
    """production is free on models and governed on prompts by default; a team
    rule can free it for that team's prompts, an entry rule govern it again."""
    from approvals.models import Environment
    from mlflow_bridge import services
    from mlflow_bridge.models import GovernedAlias

    register(cast.author)
    model = factories.make_model(cast.author, cast.team, name="scorer")
    factories.make_passing_version(cast.author, model)
    with as_person(cast.author):
        mlflow.MlflowClient().set_registered_model_alias("scorer", "production", "1")
    services.governed_alias_save(
        actor=platform_admin,
        governed=GovernedAlias(),
        alias="production",
        kind=EntryKind.PROMPT,
        team=cast.team,
        environment=None,
    )
    with as_person(cast.author):
        mlflow.genai.set_prompt_alias("greeting", alias="production", version=1)
    assert live(cast.author, "production") == 1
    services.governed_alias_save(
        actor=platform_admin,
        governed=GovernedAlias(),
        alias="production",
        model=RegisteredModel.objects.get(name="greeting"),
        environment=Environment.objects.get(name="staging"),
    )
    assert refused(cast.requester, "production", 1).environment.name == "staging"
    assert not DeploymentRequest.objects.filter(version__model=model).exists()


def test_version_answers_render_the_prompt_tags(cast, mlflow_url):
    register(cast.author, template=CHAT, model_config={"max_tokens": 200})
    answer = requests.get(
        f"{mlflow_url}/api/2.0/mlflow/model-versions/get",
        params={"name": "greeting", "version": "1"},
        headers={"Authorization": f"Bearer {token_for(cast.author)}"},
        timeout=30,
    ).json()["model_version"]
    tags = {tag["key"]: tag["value"] for tag in answer["tags"]}
    assert json.loads(tags["mlflow.prompt.text"]) == CHAT
    assert tags["_mlflow_prompt_type"] == "chat"
    assert tags["mlflow.prompt.is_prompt"] == "true"
    assert json.loads(tags["_mlflow_prompt_model_config"]) == {"max_tokens": 200}
