"""The portal's chrome and the auditor's desk in a real browser, at 1366 px and
390 px (issue #14 items 13 and 14): the logo and the favicon load; 404, 403
and a refused CSRF check are the styled page, not a bare one; an auditor signs
a checkpoint with the button and reads how long a verification took."""

import base64
import os
from pathlib import Path

import pytest
from django.urls import reverse

from audit.models import AuditCheckpoint
from tests.e2e.conftest import SCREENSHOTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
SHOTS = Path(os.environ.get("E2E_SCREENSHOTS_DIR", SCREENSHOTS)) / "chrome"


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _sign_in(browser, server, user, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return context, page


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _styled(page, status: int, title: str) -> None:
    assert page.locator(".error-page .error-status").inner_text().lower() == (
        f"error {status}"
    )
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert page.locator(".brand img").evaluate("img => img.naturalWidth") > 0
    assert _fits(page)


@pytest.mark.parametrize("width", [1366, 390])
def test_logo_favicon_and_styled_error_pages(server, browser, platform_admin, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page = _sign_in(browser, server, platform_admin, width)
    logo = page.locator(".site-header .brand img")
    assert logo.evaluate("img => img.complete && img.naturalWidth") > 0
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    answer = context.request.get(server.url + icon)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    page.screenshot(path=str(SHOTS / f"home-{width}.png"))

    response = page.goto(server.url + "/models/no-such-model/")
    assert response.status == 404
    _styled(page, 404, "Not found")
    page.screenshot(path=str(SHOTS / f"404-{width}.png"), full_page=True)

    # Django's PermissionDenied (the admin refuses to add audit events).
    response = page.goto(server.url + reverse("admin:audit_auditevent_add"))
    assert response.status == 403
    _styled(page, 403, "Not allowed")
    page.screenshot(path=str(SHOTS / f"403-{width}.png"), full_page=True)

    # A form sent without its CSRF token (as from a page open too long).
    page.goto(server.url + "/")
    with page.expect_navigation():
        page.evaluate(
            """() => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = "/audit/verifications/run/";
            document.body.appendChild(form);
            form.submit();
            }"""
        )
    _styled(page, 403, "Not allowed")
    assert "security check" in page.locator(".error-page").inner_text()
    page.screenshot(path=str(SHOTS / f"403-csrf-{width}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("width", [1366, 390])
def test_an_auditor_signs_a_checkpoint_and_verifies_the_chain(
    server, browser, auditor, settings, width
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    settings.AUDIT_SIGNING_KEY = base64.b64encode(os.urandom(32)).decode()
    context, page = _sign_in(browser, server, auditor, width)
    page.goto(server.url + reverse("audit:checkpoint-list"))
    page.get_by_role("button", name="Sign a checkpoint now").click()
    page.wait_for_url(server.url + reverse("audit:checkpoint-list"))
    checkpoint = AuditCheckpoint.objects.get()
    message = page.locator(".messages").inner_text()
    assert f"Signed a checkpoint at event {checkpoint.sequence}" in message
    row = page.locator("table tbody tr").first
    assert row.locator("td").first.inner_text() == str(checkpoint.sequence)
    assert "valid" in row.inner_text()
    assert _fits(page)
    page.screenshot(path=str(SHOTS / f"checkpoints-{width}.png"), full_page=True)

    page.goto(server.url + reverse("audit:verification-list"))
    page.get_by_role("button", name="Verify chain now").click()
    page.wait_for_url(server.url + reverse("audit:verification-list"))
    page.reload()
    took = page.locator("table tbody tr").first.locator("td").nth(4).inner_text()
    assert took in {"under a second", "1 second", "2 seconds"}
    assert "minutes" not in took
    page.screenshot(path=str(SHOTS / f"verifications-{width}.png"), full_page=True)
    context.close()
