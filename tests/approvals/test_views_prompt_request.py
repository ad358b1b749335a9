"""The request page of a prompt version: the prompt diff against live, the
metric deltas of its LLM evaluations and their downloads, the prompt card;
hidden from people who may not see the prompt."""

import pytest

from models_registry.models import PromptContent
from models_registry.prompt_text import content_hash
from tests.approvals import scenarios
from tests.approvals.test_prompt_gates import evaluate, make_prompt

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(team):
    return scenarios.Cast(team)


def with_prompt(version, template: str):
    PromptContent.objects.create(
        version=version,
        template_type="text",
        template=template,
        model_config={"provider": "openai", "model_name": "gpt-4.1"},
        variables=["question"],
        content_hash=content_hash({"template": template}),
    )
    return version


def test_prompt_request_page_shows_diff_and_metric_deltas(client, cast, outsider):
    scenarios.set_policy("low", "staging", prompt_gate_items=["llm_eval_met"])
    live = with_prompt(
        make_prompt(cast, risk_class="low"), "Answer briefly.\nCustomer: {{question}}"
    )
    evaluate(cast, live, accuracy=0.9)
    scenarios.deploy(cast, live, env="staging")
    new = with_prompt(
        scenarios.factories.make_version(cast.author, live.model),
        "Answer briefly and politely.\nCustomer: {{question}}",
    )
    evaluate(cast, new, cases=("n",), accuracy=0.8)
    request = scenarios.request(cast, new, env="staging")
    client.force_login(cast.reviewer)
    response = client.get(f"/approvals/requests/{request.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Prompt: changes against live v" in page
    assert '<span class="diff-removed">- Answer briefly.</span>' in page
    assert '<span class="diff-added">+ Answer briefly and politely.</span>' in page
    assert 'data-metric="accuracy"' in page
    assert "delta-worse" in page
    assert "Prompt card" in page
    assert "Known failure modes" in page
    assert f"/api/v1/llm-evaluations/{new.llm_evaluations.get().pk}/cases.csv" in page
    assert "Version and artifact" not in page
    client.force_login(outsider)
    assert client.get(f"/approvals/requests/{request.pk}/").status_code == 404


def test_llm_cost_metrics_read_as_us_dollars(client, cast):
    live = with_prompt(make_prompt(cast, risk_class="low"), "Answer: {{question}}")
    evaluate(cast, live, accuracy=0.9, cost_per_case=0.0012)
    scenarios.deploy(cast, live, env="staging")
    new = with_prompt(
        scenarios.factories.make_version(cast.author, live.model),
        "Answer politely: {{question}}",
    )
    evaluate(cast, new, cases=("n",), accuracy=0.9, cost_per_case=0.0009)
    request = scenarios.request(cast, new, env="staging")
    client.force_login(cast.reviewer)
    page = client.get(f"/approvals/requests/{request.pk}/").content.decode()
    row = page.split('<tr data-metric="cost_per_case">', 1)[1].split("</tr>", 1)[0]
    assert ">US$0.0009</td>" in row
    assert ">US$0.0012</td>" in row
    assert ">-US$0.0003" in row
    accuracy = page.split('<tr data-metric="accuracy">', 1)[1].split("</tr>", 1)[0]
    assert "US$" not in accuracy
