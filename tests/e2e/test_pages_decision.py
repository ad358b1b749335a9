"""The request page a reviewer decides on, in a real browser at 1366 px and at
phone width (390 px): the decision panel sits beside the summary, a refused
submit lands on the panel with its error focused and announced and the typed
comment kept, nothing overflows; the rollback button names the version.

Screenshots land in test-artifacts/e2e/ (and in $GH_SHOTS when set).
"""

import importlib
import os
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps

from approvals.models import DeploymentRequest
from kernel import roles
from tests.approvals import scenarios
from tests.models_registry import factories

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the test users' (tests/conftest.py)
WIDTHS = {"wide": 1366, "phone": 390}


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def shoot(screenshots):
    extra = os.environ.get("GH_SHOTS")

    def save(page, name):
        path = screenshots(page, name)
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(extra) / path.name), full_page=True)
        return path

    return save


@pytest.fixture
def pending(transactional_db, team):
    """v2 of a high-risk model waits for a production canary approval; v1 is
    live at full traffic."""
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
    request = scenarios.request(
        cast,
        v2,
        env="production",
        strategy="canary",
        traffic_percent=10,
        justification="Fresher 2024 data; same features.",
    )
    return SimpleNamespace(
        cast=cast, model=model, v1=v1, v2=v2, live=live, request=request
    )


def _page(browser, server, user, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/login/")
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    return context, page


def _overflow(page) -> int:
    """How far the page is wider than the window (0 when it fits)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def _sticking_out(page) -> list[str]:
    """The innermost elements that reach past the window's right edge (for the
    message of a failed overflow assertion)."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            return [...document.querySelectorAll("body *")]
                .filter((el) => el.getBoundingClientRect().right > width + 1)
                .filter((el) => !el.closest(".table-scroll"))
                .filter((el) => ![...el.children].some(
                    (child) => child.getBoundingClientRect().right > width + 1))
                .slice(0, 8)
                .map((el) => el.tagName.toLowerCase() + "." + el.className + " "
                    + el.textContent.trim().slice(0, 40));
        }"""
    )


def _in_view(page, selector: str) -> bool:
    """Whether the element's top is inside the window as the page now stands."""
    return page.evaluate(
        """(selector) => {
            const box = document.querySelector(selector).getBoundingClientRect();
            return box.top >= 0 && box.top < window.innerHeight;
        }""",
        selector,
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_reviewer_sees_the_panel_and_a_refused_submit(
    server, browser, shoot, pending, width
):
    cast, request = pending.cast, pending.request
    context, page = _page(browser, server, cast.reviewer, WIDTHS[width])
    page.goto(f"{server.url}/approvals/requests/{request.pk}/")
    shoot(page, f"request-{width}")
    assert _overflow(page) == 0, _sticking_out(page)
    panel = page.locator("#decide")
    if width == "wide":
        # Beside the summary: on the first screen, right of the request.
        assert _in_view(page, "#decide")
        summary = page.locator("#request-heading").bounding_box()
        assert panel.bounding_box()["x"] > summary["x"] + summary["width"]
        # And still there once the reviewer has scrolled down to the evidence.
        page.locator("#card-heading").scroll_into_view_if_needed()
        assert _in_view(page, "#decide-heading")
    else:
        # Right after the summary, not under 4,000 px of evidence.
        assert (
            panel.bounding_box()["y"]
            < page.locator("#gates-heading").bounding_box()["y"]
        )

    # A comment without a decision: refused, the comment kept.
    page.get_by_label("Comment").fill("Slices hold; I still need to pick.")
    page.get_by_role("button", name="Record my decision").click()
    # The refused form comes back with its error summary focused (autofocus:
    # the browser scrolls to it and a screen reader reads it, role=alert).
    page.wait_for_url(re.compile(r"/decide/$"))
    errors = page.locator("#decide-errors")
    assert errors.get_attribute("role") == "alert"
    assert "This field is required." in errors.inner_text()
    assert page.evaluate("document.activeElement.id") == "decide-errors"
    assert _in_view(page, "#decide-errors")
    assert page.get_by_label("Comment").input_value() == (
        "Slices hold; I still need to pick."
    )
    page.screenshot(
        path=str(shoot(page, f"refused-no-outcome-{width}").with_suffix(".view.png"))
    )

    # A rejection without a comment: refused, the error focused and announced.
    page.get_by_label("Comment").fill("")
    page.get_by_label("Reject", exact=True).check()
    page.get_by_role("button", name="Record my decision").click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "decide-errors"
    assert _in_view(page, "#decide-errors")
    assert "a rejection or a change request needs a comment" in (
        page.locator("#decide-errors").inner_text()
    )
    comment = page.get_by_label("Comment")
    assert comment.get_attribute("aria-invalid") == "true"
    assert "id_comment_error" in comment.get_attribute("aria-describedby")
    assert page.get_by_label("Reject", exact=True).is_checked()
    assert _overflow(page) == 0, _sticking_out(page)
    page.screenshot(
        path=str(shoot(page, f"refused-reject-{width}").with_suffix(".view.png"))
    )
    context.close()
    assert DeploymentRequest.objects.get(pk=request.pk).decisions.count() == 0


@pytest.mark.parametrize("width", WIDTHS)
def test_rollback_names_the_version_and_fits(server, browser, shoot, pending, width):
    cast, v1, v2 = pending.cast, pending.v1, pending.v2
    v2_live = scenarios.deploy(cast, v2, env="staging")
    context, page = _page(browser, server, cast.risk_officer, WIDTHS[width])
    page.goto(f"{server.url}/approvals/deployments/{v2_live.pk}/rollback/")
    button = page.get_by_role("button", name=f"Roll back to v{v1.version}")
    assert button.is_visible()
    assert _overflow(page) == 0, _sticking_out(page)
    shoot(page, f"rollback-{width}")
    context.close()
