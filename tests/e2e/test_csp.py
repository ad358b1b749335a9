"""The demo's pages raise no Content-Security-Policy violation in a real browser,
and still draw what they draw: the monitoring dashboard's Plotly charts, the
lineage graph, the request page, home and the Swagger UI. The policy is really
enforced: a script injected into the page does not run.

Violations are collected from ``securitypolicyviolation`` events by a script
that Playwright adds before any of the page's own (about 10 s in all).
"""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from approvals.models import DeploymentRequest
from approvals.selectors import deployment_live_list

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push({
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
  });
});
"""


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def demo(transactional_db, settings, tmp_path, monkeypatch):
    """The demo world (8 hours of monitoring data rather than 72), and pat, its
    platform admin, with a known password."""
    from monitoring import demo as monitoring_demo

    monkeypatch.setattr(monitoring_demo, "HOURS", 8)
    monkeypatch.setattr(monitoring_demo, "DRIFT_HOURS", 3)
    monkeypatch.setattr(monitoring_demo, "SLOW_HOURS", 2)
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    pat = get_user_model().objects.get(username="pat")
    pat.set_password(PASSWORD)
    pat.save()
    live = deployment_live_list(
        model_name="credit-scoring", environment_name="production"
    ).first()
    pending = DeploymentRequest.objects.get(
        status="pending", version__model__name="credit-scoring"
    )
    return {
        "dashboard": reverse("monitoring:dashboard", args=[live.pk]),
        "lineage": reverse("registry:model-lineage", args=["credit-scoring"]),
        "request": reverse("approvals:request-detail", args=[pending.pk]),
    }


def _violations(page) -> list[dict]:
    return page.evaluate("window.cspViolations")


def test_demo_pages_raise_no_violation_and_draw(server, browser, demo):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{server.url}/login/")
    page.get_by_label("Username").fill("pat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    assert _violations(page) == []

    page.goto(server.url + demo["dashboard"])
    charts = page.locator("[data-chart]")
    page.locator("[data-chart] svg.main-svg").first.wait_for()
    page.wait_for_load_state("networkidle")
    assert charts.count() >= 7
    drawn = page.locator("[data-chart].js-plotly-plot")
    assert drawn.count() == charts.count()
    drawn.first.hover()  # the mode bar and hover labels style themselves too
    page.locator(".modebar-btn").first.hover()
    assert _violations(page) == []

    page.goto(server.url + demo["lineage"])
    assert page.locator("svg.lineage-graph").is_visible()
    assert _violations(page) == []

    page.goto(server.url + demo["request"])
    page.get_by_role("heading", name="Gates checked at submission").wait_for()
    assert _violations(page) == []

    page.goto(server.url + reverse("api-docs"))
    page.locator(".swagger-ui .opblock").first.wait_for()  # schema loaded, drawn
    assert _violations(page) == []

    # Enforced, not only sent: an injected inline script is refused.
    ran = page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.injected = true";
        document.body.appendChild(script);
        return window.injected === true;
        }"""
    )
    assert ran is False
    assert [v["directive"] for v in _violations(page)] == ["script-src-elem"]
    context.close()
