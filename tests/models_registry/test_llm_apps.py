"""LLM application versions (issue #12): what a version pins (prompt
versions, base model and provider, generation parameters, index snapshot),
registered over /api/v1/ by content, immutable, permissions, bad input that
stores nothing, and the version page showing the pins as labelled text."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from audit.models import AuditEvent
from kernel import roles
from models_registry import services
from models_registry.models import (
    ImmutableRecordError,
    LlmAppContent,
    LlmAppPromptPin,
    ModelVersion,
)
from tests.models_registry import factories
from tests.models_registry.api_helpers import client_for
from tests.models_registry.test_views_models import person

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(data_scientist):
    return data_scientist


@pytest.fixture
def world(author, team):
    prompt = factories.make_model(
        author, team, name="support-bot", title="Support bot", kind="prompt"
    )
    for text in ("Hello {{customer}}", "Hi {{customer}}, how can I help?"):
        services.prompt_version_register(actor=author, model=prompt, template=text)
    app = factories.make_model(
        author, team, name="support-app", title="Support app", kind="llm_app"
    )
    snapshot = factories.make_snapshot(author, team, name="policy-handbook")
    return {"prompt": prompt, "app": app, "snapshot": snapshot}


def body(world, **overrides):
    values = {
        "prompts": [{"name": "support-bot", "version": 2}],
        "base_model": "openai:gpt-4.1",
        "temperature": 0.2,
        "max_tokens": 800,
        "response_format": "json_object",
        "index_snapshot": world["snapshot"].pk,
        "commit_message": "Handbook answers",
        "card": {"intended_use": "Drafts answers for support agents."},
    }
    values.update(overrides)
    return values


URL = "/api/v1/models/support-app/llm-app-versions"


def test_register_by_content_gapless_and_audited(author, world):
    client = client_for(author)
    first = client.post(URL, body(world), format="json")
    assert first.status_code == 201, first.json()
    answer = first.json()
    assert answer["version"] == 1
    assert answer["llm_app"]["base_model"] == "openai:gpt-4.1"
    assert answer["llm_app"]["prompts"][0]["name"] == "support-bot"
    assert answer["llm_app"]["index_snapshot"] == world["snapshot"].pk
    # The same pins, another message: the same version, nothing written.
    again = client.post(URL, body(world, commit_message="again"), format="json")
    assert (again.status_code, again.json()["id"]) == (200, answer["id"])
    # Other pins: the next number.
    hotter = client.post(URL, body(world, temperature=0.7), format="json")
    no_index = client.post(URL, body(world, index_snapshot=None), format="json")
    two = client.post(
        URL,
        body(
            world,
            prompts=[
                {"name": "support-bot", "version": 1},
                {"name": "support-bot", "version": 2},
            ],
        ),
        format="json",
    )
    assert [r.json()["version"] for r in (hotter, no_index, two)] == [2, 3, 4]
    assert AuditEvent.objects.filter(action="llm_app.registered").count() == 4
    version = ModelVersion.objects.get(pk=answer["id"])
    assert version.artifact.sha256 == version.llm_app.content_hash
    assert version.card.intended_use == "Drafts answers for support agents."


def test_pins_are_immutable(author, world):
    version, _ = services.llm_app_version_register(
        actor=author, model=world["app"], **_service_args(world)
    )
    content = LlmAppContent.objects.get(version=version)
    content.temperature = 1.5
    with pytest.raises(ImmutableRecordError):
        content.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        LlmAppContent.objects.filter(pk=content.pk).update(temperature=1.5)
    with pytest.raises(DatabaseError), transaction.atomic():
        LlmAppPromptPin.objects.filter(app=content).delete()


def _service_args(world):
    args = body(world)
    args.pop("card")
    return args


def test_another_team_gets_404_and_an_auditor_403(world, other_team, auditor):
    outsider = person("sam", roles.DATA_SCIENTIST, team=other_team)
    assert client_for(outsider).post(URL, body(world), format="json").status_code == 404
    assert client_for(auditor).post(URL, body(world), format="json").status_code == 403
    assert client_for(None).post(URL, body(world), format="json").status_code in (
        401,
        403,
    )
    assert not LlmAppContent.objects.exists()


def test_pins_only_what_the_registrant_may_see(author, world, other_team):
    outsider = person("sam", roles.DATA_SCIENTIST, team=other_team)
    hidden = factories.make_model(outsider, other_team, name="hidden", kind="prompt")
    services.prompt_version_register(actor=outsider, model=hidden, template="x")
    snapshot = factories.make_snapshot(outsider, other_team)
    client = client_for(author)
    answer = client.post(
        URL,
        body(
            world,
            prompts=[{"name": "hidden", "version": 1}],
            index_snapshot=snapshot.pk,
        ),
        format="json",
    )
    assert answer.status_code == 400
    fields = answer.json()["fields"]
    assert fields["prompts.0"] == ["No prompt version hidden v1 you may see."]
    assert fields["index_snapshot"] == [
        f"No dataset snapshot {snapshot.pk} you may see."
    ]
    assert not LlmAppContent.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"prompts": [{"name": "support-bot", "version": 9}]}, "prompts.0"),
        ({"prompts": []}, "prompts"),
        ({"prompts": [{"name": "support-app", "version": 1}]}, "prompts.0"),
        ({"base_model": "gpt-4.1"}, "base_model"),
        ({"base_model": "OpenAI:gpt 4"}, "base_model"),
        ({"temperature": 5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 10_000_000}, "max_tokens"),
        ({"response_format": "yaml"}, "response_format"),
        ({"index_snapshot": 999_999}, "index_snapshot"),
        ({"tags": {"key": "AKIAIOSFODNN7EXAMPLE"}}, "tags"),
        ({"card": {"users": "everyone"}}, "card.users"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(author, world, overrides, field):
    answer = client_for(author).post(URL, body(world, **overrides), format="json")
    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["fields"], answer.json()
    assert not LlmAppContent.objects.exists()
    assert world["app"].versions.count() == 0


def test_nan_is_refused(author, world):
    raw = (
        '{"prompts": [{"name": "support-bot", "version": 1}], "base_model": '
        '"openai:gpt-4.1", "temperature": NaN, "max_tokens": 10}'
    )
    answer = client_for(author).post(URL, raw, content_type="application/json")
    assert answer.status_code == 400
    assert not LlmAppContent.objects.exists()


def test_a_model_or_prompt_entry_takes_no_llm_app_version(author, world):
    answer = client_for(author).post(
        "/api/v1/models/support-bot/llm-app-versions", body(world), format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["fields"]["name"] == ["support-bot is not an LLM application."]


def test_version_page_shows_the_pins_as_text(
    author, world, client, django_assert_max_num_queries
):
    version, _ = services.llm_app_version_register(
        actor=author, model=world["app"], **_service_args(world)
    )
    client.force_login(author)
    url = f"/models/support-app/versions/{version.version}/"
    client.get(url)
    with django_assert_max_num_queries(40) as captured:
        page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "LLM application" in text
    assert "What this version runs" in text
    assert 'href="/models/support-bot/versions/2/"' in text
    assert f'href="/models/datasets/{world["snapshot"].pk}/"' in text
    assert "openai:gpt-4.1" in text
    assert "JSON object" in text
    assert "Max tokens" in text
    assert "800" in text
    assert "Application card" in text
    assert '"provider"' not in text
    assert "{&quot;" not in text
    # A second pinned prompt costs no extra query.
    queries = len(captured.captured_queries)
    two, _ = services.llm_app_version_register(
        actor=author,
        model=world["app"],
        **{
            **_service_args(world),
            "prompts": [
                {"name": "support-bot", "version": 1},
                {"name": "support-bot", "version": 2},
            ],
        },
    )
    other_url = f"/models/support-app/versions/{two.version}/"
    client.get(other_url)
    with django_assert_max_num_queries(queries) as second:
        assert client.get(other_url).status_code == 200
    assert len(second.captured_queries) == queries


def test_model_list_kind_filter(author, world, client, credit_model):
    client.force_login(author)
    apps = client.get("/models/?kind=llm_app").content.decode()
    assert "support-app" in apps
    assert "support-bot" not in apps
    assert "credit-scoring" not in apps
    everything = client.get("/models/?kind=all").content.decode()
    assert all(name in everything for name in ("support-app", "support-bot"))
    api = client_for(author).get("/api/v1/models/?kind=llm_app").json()
    assert [m["name"] for m in api["results"]] == ["support-app"]
    assert api["results"][0]["kind"] == "llm_app"


def test_an_llm_app_takes_no_artifact_version(author, world):
    answer = client_for(author).post(
        "/api/v1/models/support-app/versions/",
        {
            "artifact": {
                "uri": "s3://models/app.pkl",
                "sha256": "a" * 64,
                "size_bytes": 10,
                "format": "sklearn",
            }
        },
        format="json",
    )
    assert answer.status_code == 400
    assert "is an LLM application" in answer.json()["fields"]["artifact"][0]
    assert world["app"].versions.count() == 0


def test_the_version_s_other_pages_answer(author, world, client):
    version, _ = services.llm_app_version_register(
        actor=author, model=world["app"], **_service_args(world)
    )
    client.force_login(author)
    base = f"/models/support-app/versions/{version.version}/"
    for url in (
        base + "card/edit/",
        base + "card/history/",
        "/models/support-app/",
        f"/api/v1/versions/{version.pk}/",
        f"/api/v1/versions/{version.pk}/checklist",
        reverse("registry:version-lineage", args=["support-app", version.version]),
        reverse("reports:version-report", args=["support-app", version.version]),
    ):
        assert client.get(url).status_code == 200, url
