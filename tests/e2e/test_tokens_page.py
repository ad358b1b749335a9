"""The token pages in a real browser, at 1366 px and at phone width (390 px):
a person creates a scoped token that expires, copies it with the copy button
(no inline script: the strict CSP holds), reloads without creating another,
and a team lead gives a service account a token on its page."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from kernel import roles
from kernel.models import ApiToken, ServiceAccount
from portal.accounts import services as account_services
from tests.conftest import make_user
from tests.e2e.conftest import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS_DIR", SCREENSHOTS)) / "tokens"
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective);
});
"""


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def lead(transactional_db, team):
    return make_user("lee", roles.TEAM_LEAD, roles.DATA_SCIENTIST, team=team)


def _sign_in(browser, server, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{server.url}/login/")
    page.get_by_label("Username").fill("lee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return context, page


def _fits(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


@pytest.mark.parametrize("width", [1366, 390])
def test_create_copy_and_reload_a_personal_token(server, browser, lead, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _sign_in(browser, server, width)
    page.goto(server.url + reverse("api-tokens"))
    page.get_by_label("Name").fill("nightly ci")
    page.get_by_label("Read models, versions, datasets, runs and lineage").check()
    page.get_by_label("Push monitoring batches and reference data").check()
    page.get_by_label("Expires in").select_option("30")
    page.screenshot(path=str(SHOTS / f"tokens-form-{width}.png"), full_page=True)
    page.get_by_role("button", name="Create token").click()
    page.wait_for_url(server.url + reverse("api-tokens"))
    secret = page.locator("#new-token").inner_text()
    assert secret.startswith("gh_")
    copy = page.get_by_role("button", name="Copy")
    assert copy.is_visible()
    copy.click()
    page.get_by_text("The token is on your clipboard.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert page.get_by_role("button", name="Copied").is_visible()
    assert _fits(page)
    page.screenshot(path=str(SHOTS / f"tokens-created-{width}.png"), full_page=True)
    # A reload neither creates a second token nor shows the secret again.
    page.reload()
    assert page.locator("#new-token").count() == 0
    assert ApiToken.objects.filter(user=lead).count() == 1
    token = ApiToken.objects.get(user=lead)
    assert token.scope_set == {"registry:read", "monitoring:push"}
    assert page.evaluate("window.cspViolations") == []
    context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_a_lead_gives_a_service_account_a_token(server, browser, lead, team, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    account_services.service_account_create(
        actor=lead, name="scorer", team_id=team.pk, description="Batch scoring job"
    )
    context, page = _sign_in(browser, server, width)
    page.goto(server.url + reverse("service-accounts"))
    page.get_by_label("Name").fill("nightly-ci")
    page.get_by_label("Team").select_option(label=team.name)
    page.get_by_role("button", name="Create service account").click()
    account = ServiceAccount.objects.get(user__username="svc-nightly-ci")
    page.wait_for_url(server.url + reverse("service-account", args=[account.pk]))
    # No approving scope is offered to a service account.
    assert page.get_by_label("Approve or reject deployment requests").count() == 0
    page.get_by_label("Name").fill("ci")
    page.get_by_label("Register and change models, versions, datasets, runs").check()
    page.get_by_label("Request deployments and cancel own requests").check()
    page.get_by_role("button", name="Create token").click()
    page.locator("#new-token").wait_for()
    assert _fits(page)
    page.screenshot(path=str(SHOTS / f"service-account-{width}.png"), full_page=True)
    page.goto(server.url + reverse("service-accounts"))
    assert _fits(page)
    page.screenshot(
        path=str(SHOTS / f"service-accounts-list-{width}.png"), full_page=True
    )
    assert page.evaluate("window.cspViolations") == []
    token = ApiToken.objects.get(user=account.user)
    assert token.scope_set == {"registry:write", "requests:create"}
    context.close()
