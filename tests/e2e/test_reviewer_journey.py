"""A reviewer and a risk officer approve a production canary of a high-risk model
in a real browser; the deployment appears; then the rollback button, its
confirmation naming the target artifact, and the timeline showing the rollback.

Records are built through the services (factories) so that every gate passes:
a passing version, an independent validation report and a prior staging
deployment. Screenshots of each step land in test-artifacts/e2e/.
"""

import importlib
import re

import pytest
from django.apps import apps

from approvals.models import Deployment, DeploymentRequest, DeploymentStatus
from kernel import roles
from tests.approvals import scenarios
from tests.models_registry import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the test users' (tests/conftest.py)


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the assertions
    # on the database run between its calls, never inside them.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def journey(transactional_db, team):
    """A high-risk model: v1 runs at full traffic in production (after staging
    and a production canary), v2 is validated, ran in staging, and waits for
    a production canary approval by a reviewer and a risk officer."""
    # An earlier transactional test may have flushed the migrations' rows.
    roles.sync_role_groups(apps)
    importlib.import_module(
        "approvals.migrations.0002_default_policies"
    ).create_defaults(apps, None)
    cast = scenarios.Cast(team)
    model, v1 = scenarios.passing_model(cast, risk_class="high", name="credit-scoring")
    scenarios.validate(cast, v1)
    scenarios.deploy(cast, v1, env="staging")
    scenarios.deploy(cast, v1, env="production", strategy="canary", traffic_percent=10)
    live = scenarios.deploy(cast, v1, env="production", kind="promote")
    v2 = factories.make_passing_version(cast.author, model)
    scenarios.validate(cast, v2)
    scenarios.deploy(cast, v2, env="staging")
    pending = scenarios.request(
        cast,
        v2,
        env="production",
        strategy="canary",
        traffic_percent=10,
        justification="Fresher 2024 data; same features.",
    )
    assert [g["status"] for g in pending.gate_results if g["status"] == "fail"] == []
    return cast, model, v1, v2, live, pending


def _sign_in(browser, server, user, screenshots, step):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    screenshots(page, f"{step}-sign-in")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return context, page


def _open_from_queue(page, pending, screenshots, step):
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Approvals"
    ).click()
    row = page.locator(f'tr[data-request="{pending.pk}"]')
    row.wait_for()
    assert "credit-scoring" in row.inner_text()
    assert "All pass" in row.inner_text()
    screenshots(page, f"{step}-queue")
    row.get_by_role("link", name=f"#{pending.pk}").click()
    page.get_by_role("heading", name="Gates checked at submission").wait_for()


def _approve(page, comment):
    page.get_by_label("Approve", exact=True).check()
    page.get_by_label("Comment").fill(comment)
    page.get_by_role("button", name="Record my decision").click()


def test_reviewer_journey(server, browser, screenshots, journey):
    cast, model, v1, v2, live, pending = journey

    # The reviewer signs in, finds the request in her queue, reads the gates.
    context, page = _sign_in(browser, server, cast.reviewer, screenshots, "reviewer")
    _open_from_queue(page, pending, screenshots, "reviewer")
    gates = page.locator("ul.gates li")
    assert gates.count() == len(pending.gate_results)
    assert page.locator("ul.gates li.status-fail").count() == 0
    assert "Validated by validator1" in (
        page.locator('[data-gate="independent_validation"]').inner_text()
    )
    assert page.get_by_text(v2.artifact.sha256).first.is_visible()
    screenshots(page, "reviewer-reads-the-gates")
    _approve(page, "Metrics and slices hold; validation is clean.")
    page.get_by_text("Your decision (approve, as reviewer) is recorded.").wait_for()
    screenshots(page, "reviewer-approved")
    context.close()

    # The risk officer completes the approval: the deployment appears.
    context, page = _sign_in(
        browser, server, cast.risk_officer, screenshots, "risk-officer"
    )
    _open_from_queue(page, pending, screenshots, "risk-officer")
    _approve(page, "Risk accepted for a 10% canary.")
    message = page.locator(".message-success")
    message.wait_for()
    assert re.search(
        r"Approved\. The request is complete and was executed: deployment #\d+ of "
        rf"v{v2.version} is live in production\.",
        message.inner_text(),
    )
    screenshots(page, "risk-officer-approved-deployed")
    canary = Deployment.objects.get(request=pending)
    page.get_by_role("link", name=f"Deployment #{canary.pk}", exact=True).click()
    page.get_by_role("heading", name="Rollback target").wait_for()
    assert page.locator("#target-sha256").inner_text() == v1.artifact.sha256
    screenshots(page, "deployment-page")

    # One click to roll back, a confirmation naming the target artifact.
    page.get_by_role("link", name=f"Roll back to v{v1.version}…").click()
    page.get_by_role("heading", name="Confirm the rollback").wait_for()
    assert page.locator("#target-sha256").inner_text() == v1.artifact.sha256
    page.get_by_label("Reason").fill("Canary error rate doubled (incident 4711).")
    screenshots(page, "rollback-confirmation")
    page.get_by_role("button", name=f"Roll back to v{v1.version}").click()

    # The timeline shows the rollback, and v1 at full traffic still live.
    page.get_by_role("heading", name=f"Deployments of {model.title}").wait_for()
    assert "is rolled back" in page.locator(".message-success").inner_text()
    production = page.locator('section[data-environment="production"]')
    row = production.locator(f'tr[data-deployment="{canary.pk}"]')
    assert "Rolled back" in row.inner_text()
    assert "Canary error rate doubled (incident 4711)." in row.inner_text()
    live_row = production.locator(f'tr[data-deployment="{live.pk}"]')
    assert "Active" in live_row.inner_text()
    screenshots(page, "timeline-rolled-back")

    # The model page says what is live now, with the link to the timeline.
    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name=model.name
    ).click()
    live_now = page.locator(
        '.model-deployments tr[data-environment="production"]'
    ).inner_text()
    assert f"v{v1.version} · Full · {v1.artifact.sha256[:16]}" in live_now
    assert f"v{v2.version}" not in live_now
    screenshots(page, "model-page-live-now")
    context.close()

    pending.refresh_from_db()
    canary.refresh_from_db()
    live.refresh_from_db()
    assert pending.status == "executed"
    assert canary.status == DeploymentStatus.ROLLED_BACK
    assert canary.rollback_target_id == live.pk
    assert live.status == DeploymentStatus.ACTIVE
    assert DeploymentRequest.objects.get(pk=pending.pk).decisions.count() == 2
