"""The request page of a prompt version in a real browser at 1366 and 390 px:
the prompt diff against live, the LLM metric deltas and the evaluations with
their downloads fit the window (long prompt lines wrap).

Screenshots land in test-artifacts/e2e/.
"""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps

from kernel import roles
from tests.approvals import scenarios
from tests.approvals.test_prompt_gates import evaluate, make_prompt
from tests.approvals.test_views_prompt_request import with_prompt
from tests.e2e.test_pages_decision import WIDTHS, _overflow, _page, _sticking_out
from tests.models_registry import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LONG = "Always answer in the customer's language and never reveal card numbers, " * 4


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def prompt_request(transactional_db, team):
    roles.sync_role_groups(apps)
    importlib.import_module(
        "approvals.migrations.0002_default_policies"
    ).create_defaults(apps, None)
    importlib.import_module(
        "approvals.migrations.0005_prompt_gates_in_policies"
    ).add_prompt_gates(apps, None)
    cast = scenarios.Cast(team)
    live = with_prompt(make_prompt(cast, risk_class="low"), f"{LONG}\n{{{{question}}}}")
    evaluate(cast, live, accuracy=0.9)
    scenarios.deploy(cast, live, env="staging")
    new = with_prompt(
        factories.make_version(cast.author, live.model),
        f"{LONG} Be brief.\n{{{{question}}}}",
    )
    evaluate(cast, new, cases=("n",), accuracy=0.86, answer_relevance_score=0.9)
    evaluate(cast, new, is_safety=True, accuracy=0.95)
    request = scenarios.request(cast, new, env="staging")
    return SimpleNamespace(cast=cast, request=request)


@pytest.mark.parametrize("width", WIDTHS)
def test_prompt_request_page_fits(server, browser, screenshots, prompt_request, width):
    cast, request = prompt_request.cast, prompt_request.request
    context, page = _page(browser, server, cast.reviewer, WIDTHS[width])
    page.goto(f"{server.url}/approvals/requests/{request.pk}/")
    screenshots(page, f"prompt-request-{width}")
    assert _overflow(page) == 0, _sticking_out(page)
    assert page.locator("pre.prompt-diff .diff-added").count() == 1
    assert page.locator("tr[data-metric='accuracy'] td.delta-worse").count() == 1
    assert page.get_by_role("link", name="CSV").count() == 2
    # The metric deltas fit without scrolling sideways: a table at 1366 px,
    # one stacked block per metric at 390 px, each value under its column name.
    deltas = page.locator(".table-scroll:has(table.metrics-compare)")
    assert deltas.evaluate("el => el.scrollWidth - el.clientWidth") == 0
    header = page.locator("table.metrics-compare thead")
    if width == "phone":
        assert header.evaluate("el => el.getBoundingClientRect().height") <= 1
        difference = page.locator("tr[data-metric='accuracy'] td.delta")
        assert difference.get_attribute("data-label") == "Difference"
    else:
        assert header.is_visible()
    context.close()
