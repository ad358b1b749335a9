"""A prompt version's page in a real browser at 1366 and 390 px: the chat
template as role-labelled blocks, the diffs against the previous and the live
version, and the prompt card fit the window (long template lines wrap).

Screenshots land in test-artifacts/e2e/.
"""

import pytest

from models_registry import services
from tests.approvals import scenarios
from tests.approvals.factories import make_deployment
from tests.e2e.test_pages_decision import WIDTHS, _overflow, _page, _sticking_out
from tests.models_registry import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG = "Always answer in the customer's language and never repeat card numbers, " * 4


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def prompt_versions(transactional_db, team):
    cast = scenarios.Cast(team)
    prompt = factories.make_model(
        cast.author, team, name="support-assistant-with-a-long-name", kind="prompt"
    )

    def register(system: str, temperature: float):
        return services.prompt_version_register(
            actor=cast.author,
            model=prompt,
            template=[
                {"role": "system", "content": system},
                {"role": "user", "content": "{{question}}"},
            ],
            model_config={
                "provider": "openai",
                "model_name": "gpt-4.1-mini",
                "temperature": temperature,
            },
            card={"intended_use": "Web chat answers. " * 20},
        )[0]

    live = register(LONG, 0.2)
    make_deployment(version=live, deployed_by=cast.author)
    new = register(LONG + " Be brief.", 0.5)
    return cast, new


@pytest.mark.parametrize("width", WIDTHS)
def test_prompt_version_page_fits(server, browser, screenshots, prompt_versions, width):
    cast, version = prompt_versions
    context, page = _page(browser, server, cast.author, WIDTHS[width])
    page.goto(f"{server.url}/models/{version.model.name}/versions/{version.version}/")
    screenshots(page, f"prompt-version-{width}")
    assert _overflow(page) == 0, _sticking_out(page)
    assert page.locator(".prompt-role").all_inner_texts() == ["System", "User"]
    # Against v1, both as the previous version and as what is live.
    assert page.locator("pre.prompt-diff .diff-added").count() == 4
    assert page.get_by_role("heading", name="Prompt card").count() == 1
    context.close()
