"""Prompt entries in the registry: registration by content, immutability,
secrets, the model list's kind filter, and the prompt version page (template as
text, chat as labelled blocks, diffs against the previous and the live
version, the prompt card)."""

import pytest
from django.db import DatabaseError, transaction

from kernel import roles
from models_registry import selectors, services
from models_registry.errors import RegistryInvalid, RegistryPermissionDenied
from models_registry.models import (
    ImmutableRecordError,
    ModelVersion,
    PromptContent,
    RegisteredModel,
)
from models_registry.prompt_text import check_prompt, text_diff
from tests.approvals.factories import make_deployment
from tests.models_registry import factories
from tests.models_registry.test_views_models import person

pytestmark = pytest.mark.django_db

TEMPLATE = "Hello {{customer}}, about {{topic}}: how can I help?"
CHAT = [
    {"role": "system", "content": "You are a {{tone}} assistant."},
    {"role": "user", "content": "{{question}}"},
]


@pytest.fixture
def author(team):
    return person("dana", roles.DATA_SCIENTIST, team=team)


@pytest.fixture
def prompt(author, team):
    return factories.make_model(
        author, team, name="support-bot", title="Support bot", kind="prompt"
    )


def register(author, prompt, template=TEMPLATE, **kwargs):
    return services.prompt_version_register(
        actor=author, model=prompt, template=template, **kwargs
    )


def test_same_content_same_version_and_gapless_numbers(author, prompt):
    first, created = register(author, prompt, commit_message="first")
    assert (first.version, created) == (1, True)
    again, created = register(author, prompt, commit_message="another message")
    assert (again.pk, created) == (first.pk, False)
    chat, _ = register(author, prompt, template=CHAT)
    configured, _ = register(author, prompt, model_config={"temperature": 0.2})
    assert [chat.version, configured.version] == [2, 3]
    # Key order does not change the identity.
    same, created = register(
        author, prompt, template=CHAT, response_format={"b": 1, "a": 2}
    )
    reordered, created = register(
        author, prompt, template=CHAT, response_format={"a": 2, "b": 1}
    )
    assert (reordered.pk, created) == (same.pk, False)
    content = first.prompt
    assert content.content_hash == first.artifact.sha256
    assert content.variables == ["customer", "topic"]


def test_prompt_content_is_immutable(author, prompt):
    version, _ = register(author, prompt)
    content = PromptContent.objects.get(version=version)
    content.template = "changed"
    with pytest.raises(ImmutableRecordError):
        content.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        PromptContent.objects.filter(pk=content.pk).update(template="changed")


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("Hi {{name", "template"),
        ("", "template"),
        ([], "template"),
        ([{"role": "user"}], "template.1"),
        ([{"role": "robot", "content": "x"}], "template.1"),
        ("token: ghp_" + "a" * 36, "template"),
        ("-----BEGIN RSA PRIVATE KEY-----", "template"),
    ],
)
def test_bad_templates_store_nothing(author, prompt, template, field):
    with pytest.raises(RegistryInvalid) as caught:
        register(author, prompt, template=template)
    assert field in caught.value.fields
    assert not ModelVersion.objects.filter(model=prompt).exists()


def test_mentioning_a_password_is_not_a_secret():
    body, errors = check_prompt("Ask for the password, then {{password}}: {{api_key}}")
    assert errors == {}
    assert body.variables == ["password", "api_key"]
    _, errors = check_prompt("password = hunter2hunter2")
    assert "credentials" in errors["template"][0]
    _, errors = check_prompt(TEMPLATE, model_config={"api_key": "sk-abcdefghijkl"})
    assert "credentials" in errors["model_config"][0]
    _, errors = check_prompt(TEMPLATE, model_config={"temperature": -1})
    assert "Temperature" in errors["model_config"][0]


def test_a_model_takes_no_prompt_and_only_empty_prompts_are_discarded(
    author, team, prompt
):
    model = factories.make_model(author, team, name="scorer")
    with pytest.raises(RegistryInvalid):
        register(author, model)
    with pytest.raises(RegistryPermissionDenied):
        services.prompt_discard(actor=author, model=model)
    register(author, prompt)
    with pytest.raises(RegistryPermissionDenied):
        services.prompt_discard(actor=author, model=prompt)
    empty = factories.make_model(author, team, name="empty-bot", kind="prompt")
    services.prompt_discard(actor=author, model=empty)
    assert not RegisteredModel.objects.filter(name="empty-bot").exists()


def test_display_text_and_diffs(author, prompt):
    chat, _ = register(author, prompt, template=CHAT, model_config={"max_tokens": 50})
    text = selectors.prompt_version_content(chat)
    assert text == ("System:\nYou are a {{tone}} assistant.\n\nUser:\n{{question}}")
    assert "{" + '"role"' not in text
    second, _ = register(
        author,
        prompt,
        template=[CHAT[0], {"role": "user", "content": "{{question}} Be brief."}],
        model_config={"max_tokens": 80},
    )
    diff = selectors.prompt_diff(second, selectors.prompt_previous(second))
    changes = {(line.change, line.text) for line in diff.lines if line.change != "same"}
    assert changes == {
        ("removed", "{{question}}"),
        ("removed", "Max tokens: 50"),
        ("added", "{{question}} Be brief."),
        ("added", "Max tokens: 80"),
    }
    assert text_diff("a\nb", "a\nb")[0].change == "same"


def test_the_model_list_shows_prompts_only_when_asked(client, author, team, prompt):
    factories.make_model(author, team, name="scorer")
    client.force_login(author)
    default = client.get("/models/")
    assert "scorer" in default.text
    assert "support-bot" not in default.text
    prompts = client.get("/models/?kind=prompt")
    assert "support-bot" in prompts.text
    assert "scorer" not in prompts.text
    both = client.get("/models/?kind=all")
    assert "support-bot" in both.text
    assert "scorer" in both.text
    assert client.get("/models/?kind=robots").status_code == 400
    api = client.get("/api/v1/models/").json()
    assert [entry["name"] for entry in api["results"]] == ["scorer"]
    api = client.get("/api/v1/models/?kind=prompt").json()
    assert [(e["name"], e["kind"]) for e in api["results"]] == [
        ("support-bot", "prompt")
    ]


def test_the_prompt_version_page(client, author, prompt, team, reviewer):
    first, _ = register(author, prompt, commit_message="First greeting")
    services.model_card_update(
        actor=author,
        version=first,
        intended_use="Answer customers",
        limitations="Invents policy numbers",
    )
    make_deployment(version=first, deployed_by=author)
    second, _ = register(author, prompt, template=CHAT)
    client.force_login(author)
    page = client.get(f"/models/support-bot/versions/{second.version}/")
    assert page.status_code == 200
    html = page.text
    assert "Prompt template" in html
    assert '<strong class="prompt-role">System</strong>' in html
    assert "You are a {{tone}} assistant." in html
    assert "&quot;role&quot;" not in html
    assert "Changes since the previous version" in html
    assert "Against what is live" in html
    assert 'class="diff-removed">- Hello {{customer}}' in html
    assert "Review checklist" not in html
    first_page = client.get(f"/models/support-bot/versions/{first.version}/").text
    assert "Known failure modes" in first_page
    assert "Invents policy numbers" in first_page
    assert "Training data" not in first_page
    assert "This version runs at full traffic here." in first_page
    assert "This is the first version." in first_page
    # Another team's member and an unassigned reviewer get a 404.
    client.force_login(reviewer)
    assert client.get(f"/models/support-bot/versions/{first.version}/").status_code == (
        404
    )


def test_the_prompt_card_editor_has_the_prompt_fields(client, author, prompt):
    version, _ = register(author, prompt)
    client.force_login(author)
    url = f"/models/support-bot/versions/{version.version}/card/edit/"
    page = client.get(url)
    assert "Safety mitigations" in page.text
    assert "Training data" not in page.text
    response = client.post(
        url,
        {
            "base_revision": 1,
            "intended_use": "Support answers",
            "out_of_scope_uses": "Legal advice",
            "limitations": "Long threads",
            "ethical_considerations": "Refuses account changes",
        },
    )
    assert response.status_code == 302
    card = version.card
    card.refresh_from_db()
    assert card.is_complete_for("prompt")
    assert not card.is_complete


def test_a_prompt_version_pages_around_it_answer(client, author, prompt):
    """The model page, lineage and the lineage report of a prompt version."""
    version, _ = register(author, prompt, template=CHAT)
    client.force_login(author)
    for url in (
        "/models/support-bot/",
        f"/models/support-bot/versions/{version.version}/lineage/",
        f"/reports/models/support-bot/versions/{version.version}/",
        f"/reports/models/support-bot/versions/{version.version}/?format=json",
        f"/models/support-bot/versions/{version.version}/card/history/",
    ):
        assert client.get(url).status_code == 200, url
