"""Single sign-on in a real browser through a real OpenID provider
(tests/oidc/provider.mjs): the login page's "Sign in with …" button, the
provider's sign-in form, back to the portal with the roles and team the groups
claim maps to; sign-out at both ends (RP-initiated logout); a group removed at
the provider takes the role away at the next sign-in."""

import copy

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from identity.models import GroupMapping
from kernel import roles
from kernel.roles import user_roles
from tests.oidc import server as oidc_server

# The test provider (started once per session) and the portal's settings for it.
oidc_provider = oidc_server.oidc_provider
sso = oidc_server.sso

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def portal(sso, settings, server, team):
    """The live portal, signing in through the test provider; its CSP lets the
    sign-out form's redirect reach the provider (as the settings do for a
    configured OIDC_ISSUER)."""
    roles.sync_role_groups(apps)  # an earlier transactional test may have flushed
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(sso.issuer)
    settings.CONTENT_SECURITY_POLICY = policy
    GroupMapping.objects.create(claim="gh-reviewers", role=roles.REVIEWER)
    GroupMapping.objects.create(claim="gh-credit", team=team)
    return server


def _sign_in_through_the_provider(page, portal, sso, login, screenshots, step):
    page.goto(f"{portal.url}/login/")
    button = page.get_by_role("link", name="Sign in with Test IdP")
    screenshots(page, f"{step}-login-page")
    button.click()
    page.wait_for_url(f"{sso.issuer}/interaction/**")
    page.get_by_label("Username").fill(login)
    screenshots(page, f"{step}-provider-sign-in")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{portal.url}/")


def test_signing_in_through_the_provider_maps_groups_to_roles(
    browser, portal, sso, team, screenshots
):
    sso.set_account("rita", groups=["gh-reviewers", "gh-credit"])
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    _sign_in_through_the_provider(page, portal, sso, "rita", screenshots, "sso")
    account = page.locator(".account .who")
    assert account.inner_text() == "rita · Reviewer"
    screenshots(page, "sso-signed-in")
    rita = get_user_model().objects.get(username="rita")
    assert user_roles(rita) == {roles.REVIEWER}
    assert rita.groups.filter(pk=team.group_id).exists()

    # Sign out: the portal, then the provider (RP-initiated logout), back here.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{sso.issuer}/session/end**")
    screenshots(page, "sso-provider-sign-out")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{portal.url}/login/")

    # The provider takes rita out of the reviewers: the next sign-in says so.
    sso.set_account("rita", groups=["gh-credit"])
    _sign_in_through_the_provider(page, portal, sso, "rita", screenshots, "again")
    assert page.locator(".account .who").inner_text() == "rita"
    rita = get_user_model().objects.get(username="rita")
    assert user_roles(rita) == frozenset()
    assert rita.groups.filter(pk=team.group_id).exists()
    context.close()
