"""The LLM dashboard of a deployment: who may see it, what it shows (labels,
not internal names), and the link from the deployment's dashboard."""

import re

import pytest

from monitoring.evidence import alert_evidence
from monitoring.services.config import monitoring_config_set
from tests.monitoring.batches import check_all, hour_ago, ingest
from tests.monitoring.llm_calls import call_rows

pytestmark = pytest.mark.django_db


def _page(client, user, deployment, query=""):
    client.force_login(user)
    return client.get(f"/monitoring/deployments/{deployment.pk}/llm/{query}")


@pytest.fixture
def calls(world):
    monitoring_config_set(
        actor=world.users.requester,
        model_name=world.model.name,
        values={
            "llm": {
                "cost_per_call_baseline": 0.002,
                "judge_baselines": {"faithfulness": 0.9},
            }
        },
    )
    ingest(
        world,
        call_rows(
            40,
            start=hour_ago(30),
            flagged={0: ["self_harm"]},
            thumbs={1: "down"},
            judge={"faithfulness": [0.9] * 40},
        ),
        "a",
        kind="llm_calls",
    )
    ingest(
        world,
        call_rows(40, start=hour_ago(3), prefix="b", cost=0.008),
        "b",
        kind="llm_calls",
    )
    check_all()


def test_the_team_sees_the_llm_dashboard_in_labels(client, world, calls):
    response = _page(client, world.users.requester, world.deployment)

    assert response.status_code == 200
    text = response.content.decode()
    for label in (
        "Calls and cost",
        "Cost per call",
        "Judge scores against the eval baseline",
        "Day by day",
        "LLM cost spike",
        "Flagged: self harm",
        "Base model openai:gpt-4.1",
    ):
        assert label in text, label
    for internal in ("safety_flag_rate", "llm_cost", "cost_per_call_baseline"):
        assert internal not in text.split("<script", 1)[0], internal
    dashboard = client.get(f"/monitoring/deployments/{world.deployment.pk}/")
    assert "LLM calls: cost, quality and safety" in dashboard.content.decode()


def test_costs_read_as_us_dollars(client, world, calls):
    text = _page(client, world.users.requester, world.deployment).content.decode()
    # 40 calls at 0.002 and 40 at 0.008 (tests.monitoring.llm_calls).
    assert "<dt>Cost</dt><dd>US$0.4 (US$0.005 a call)</dd>" in text
    assert '<td class="number" data-label="Cost">US$0.32</td>' in text
    assert "cost per call (US$)" in text
    assert "cost (US$)" in text


def test_a_cost_alert_s_evidence_reads_as_us_dollars():
    evidence = alert_evidence(
        {
            "score": 0.0065,
            "threshold": 0.0036,
            "verdict": "warning",
            "calls": 99,
            "cost": 0.6438,
            "baseline_cost_per_call": 0.0024,
            "ratio": 2.7,
        }
    )
    assert ("Value in the latest window", "US$0.0065") in evidence.verdict
    assert ("Warning threshold", "US$0.0036") in evidence.verdict
    assert ("Cost in the window", "US$0.6438") in evidence.other
    assert ("Baseline cost per call", "US$0.0024") in evidence.other
    assert ("Calls in the window", "99") in evidence.other
    assert ("Cost per call over the baseline", "2.7") in evidence.other


def test_an_auditor_reads_it_and_another_team_gets_404(client, world, calls):
    assert _page(client, world.users.auditor, world.deployment).status_code == 200
    assert _page(client, world.users.stranger, world.deployment).status_code == 404
    assert _page(client, world.users.outsider, world.deployment).status_code == 404


def test_a_period_without_calls_says_so(client, world):
    response = _page(client, world.users.requester, world.deployment, "?days=30")
    assert response.status_code == 200
    assert "was received in this period" in response.content.decode()
    odd = _page(client, world.users.requester, world.deployment, "?days=99999999")
    assert odd.status_code == 200


def test_the_dashboard_reads_in_the_same_queries_whatever_the_days(
    client, world, calls, django_assert_max_num_queries
):
    client.force_login(world.users.requester)
    url = f"/monitoring/deployments/{world.deployment.pk}/llm/"
    client.get(url)
    with django_assert_max_num_queries(80) as before:
        assert client.get(url).status_code == 200
    queries = len(before.captured_queries)  # read now: each request resets the log
    ingest(
        world,
        call_rows(40, start=hour_ago(60), prefix="c", flagged={2: ["pii"]}),
        "c",
        kind="llm_calls",
    )
    ingest(world, call_rows(20, start=hour_ago(100), prefix="d"), "d", kind="llm_calls")
    check_all()
    with django_assert_max_num_queries(queries) as after:
        assert client.get(url).status_code == 200
    assert len(after.captured_queries) == queries


@pytest.mark.parametrize(
    ("kind", "named"), [("prompt", "a prompt"), ("llm_app", "an LLM application")]
)
def test_an_llm_entry_s_dashboard_shows_only_what_applies(
    client, world, calls, kind, named
):
    type(world.model).objects.filter(pk=world.model.pk).update(kind=kind)
    client.force_login(world.users.requester)
    html = client.get(f"/monitoring/deployments/{world.deployment.pk}/").content
    html = html.decode()

    charts = re.findall(r'data-chart="(chart-[a-z]+)"', html)
    assert charts == ["chart-latency", "chart-kpis"]
    for trained_only in (
        "drift",
        "distribution",
        "performance",
        "fairness",
        "segments",
        "volume",
    ):
        assert f'id="{trained_only}-heading"' not in html, trained_only
    assert 'id="latency-heading"' in html
    assert f"What is monitored for {named}" in html
    assert "apply to trained models only" in html
    assert html.count(f"/monitoring/deployments/{world.deployment.pk}/llm/") == 2


def test_a_trained_model_s_dashboard_keeps_its_panels(client, world, calls):
    client.force_login(world.users.requester)
    html = client.get(f"/monitoring/deployments/{world.deployment.pk}/").content
    html = html.decode()
    assert '<h2 id="drift-heading">Data drift</h2>' in html
    assert '<h2 id="volume-heading">Predictions and labels</h2>' in html
    assert "apply to trained models only" not in html
