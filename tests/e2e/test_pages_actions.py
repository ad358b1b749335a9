"""Actions where people look for them, in a real browser at 1366 px and 390 px:
the data scientist asks for a deployment from the version page, the reviewer
finds it on her home page, the model page links to monitoring, the auditor
follows a target from the audit log; the report page fits a phone.

Screenshots land in test-artifacts/e2e/ (and in $GH_SHOTS when set).
"""

import pytest

from approvals import services
from approvals.models import DeploymentRequest
from tests.e2e.test_pages_decision import (
    WIDTHS,
    _overflow,
    _page,
    _sticking_out,
    _sync_orm_beside_playwright,
    pending,
    shoot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Fixtures shared with the decision-panel journey.
__all__ = ["_sync_orm_beside_playwright", "pending", "shoot"]


@pytest.mark.parametrize("width", WIDTHS)
def test_request_from_the_version_page_and_decide_from_home(
    server, browser, shoot, pending, width
):
    cast, model, v1 = pending.cast, pending.model, pending.v1
    # The fixture's request is withdrawn: this journey submits its own.
    services.deployment_request_cancel(
        actor=cast.requester, request_id=pending.request.pk, reason="Superseded."
    )

    # The data scientist opens v2 and asks for a production canary there.
    context, page = _page(browser, server, cast.requester, WIDTHS[width])
    page.goto(f"{server.url}/models/{model.name}/versions/{pending.v2.version}/")
    assert page.locator("#requests-heading").is_visible()
    shoot(page, f"version-page-{width}")
    assert _overflow(page) == 0, _sticking_out(page)
    page.get_by_role("link", name="Request deployment").click()
    page.wait_for_url(
        f"{server.url}/approvals/models/{model.name}/versions/"
        f"{pending.v2.version}/request/"
    )
    page.get_by_label("Environment").select_option("production")
    page.get_by_label("Strategy").select_option("canary")
    page.get_by_label("Traffic %").fill("10")
    page.get_by_label("Justification").fill("Fresher 2024 data; same features.")
    shoot(page, f"request-form-{width}")
    assert _overflow(page) == 0, _sticking_out(page)
    page.get_by_role("button", name="Submit the request").click()
    page.get_by_text("is submitted to the reviewers").wait_for()
    submitted = DeploymentRequest.objects.get(version=pending.v2, status="pending")
    # Back on the version page, the pending request is listed.
    page.goto(f"{server.url}/models/{model.name}/versions/{pending.v2.version}/")
    assert page.locator(f'li[data-request="{submitted.pk}"]').is_visible()
    context.close()

    # The reviewer finds it on her home page.
    context, page = _page(browser, server, cast.reviewer, WIDTHS[width])
    waiting = page.locator(f'.waiting li[data-request="{submitted.pk}"]')
    assert waiting.is_visible()
    shoot(page, f"home-waiting-{width}")
    assert _overflow(page) == 0, _sticking_out(page)
    waiting.get_by_role("link").click()
    page.wait_for_url(f"{server.url}/approvals/requests/{submitted.pk}/")
    # The model page links the live deployment to its dashboard.
    page.goto(f"{server.url}/models/{model.name}/")
    page.get_by_role("link", name=f"Monitoring of v{v1.version} in Production").click()
    page.wait_for_url(f"{server.url}/monitoring/deployments/{pending.live.pk}/")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_auditor_follows_targets_and_reads_the_report(
    server, browser, shoot, pending, auditor, width
):
    model = pending.model
    context, page = _page(browser, server, auditor, WIDTHS[width])
    page.goto(f"{server.url}/audit/?target_type=approvals.deploymentrequest")
    assert page.locator("select#id_target_type").input_value() == (
        "approvals.deploymentrequest"
    )
    shoot(page, f"audit-log-{width}")
    link = page.get_by_role("link", name=f"Deployment request #{pending.request.pk}")
    link.first.click()
    page.wait_for_url(f"{server.url}/approvals/requests/{pending.request.pk}/")

    page.goto(f"{server.url}/reports/models/{model.name}/")
    page.locator("#r-identity").wait_for()
    assert "EU AI Act: high risk" in page.locator("#r-identity").inner_text()
    shoot(page, f"report-{width}")
    assert _overflow(page) == 0, _sticking_out(page)
    context.close()
