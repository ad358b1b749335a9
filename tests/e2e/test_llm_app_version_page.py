"""An LLM application version's page in a real browser at 1366 and 390 px:
the pinned prompt versions, base model, parameters and index snapshot as
labelled text with links, and the application card, fit the window.

Screenshots land in test-artifacts/e2e/.
"""

import pytest

from models_registry import services
from tests.approvals import scenarios
from tests.e2e.test_pages_decision import WIDTHS, _overflow, _page, _sticking_out
from tests.models_registry import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def app_version(transactional_db, team):
    cast = scenarios.Cast(team)
    prompt = factories.make_model(
        cast.author, team, name="support-assistant-with-a-long-name", kind="prompt"
    )
    for text in ("Hello {{customer}}", "Summarise {{ticket}} for the agent."):
        services.prompt_version_register(actor=cast.author, model=prompt, template=text)
    app = factories.make_model(
        cast.author, team, name="support-desk-application", kind="llm_app"
    )
    snapshot = factories.make_snapshot(
        cast.author, team, name="policy-handbook-index-2026-12"
    )
    version, _ = services.llm_app_version_register(
        actor=cast.author,
        model=app,
        prompts=[
            {"name": prompt.name, "version": 1},
            {"name": prompt.name, "version": 2},
        ],
        base_model="bedrock:meta.llama3-70b-instruct-v1:0",
        temperature=0.3,
        max_tokens=4096,
        response_format="json_schema",
        index_snapshot=snapshot.pk,
        card={"intended_use": "Drafts answers for support agents. " * 10},
    )
    return cast, version


@pytest.mark.parametrize("width", WIDTHS)
def test_llm_app_version_page_fits(server, browser, screenshots, app_version, width):
    cast, version = app_version
    context, page = _page(browser, server, cast.author, WIDTHS[width])
    page.goto(f"{server.url}/models/{version.model.name}/versions/{version.version}/")
    screenshots(page, f"llm-app-version-{width}")
    assert _overflow(page) == 0, _sticking_out(page)
    section = page.locator("section[aria-labelledby=llm-app-heading]")
    assert section.get_by_role("link").count() == 3
    assert "Temperature" in section.inner_text()
    assert page.get_by_role("heading", name="Application card").count() == 1
    context.close()
