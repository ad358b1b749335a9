"""LLM application versions are governed like prompts (issue #12): the prompt
gates apply, the trained-model gates read not applicable, and eval-harness
evaluations are imported for them as for a prompt."""

import pytest

from models_registry import services
from tests.approvals import scenarios
from tests.approvals.test_prompt_gates import ACCURACY, evaluate, gates_of
from tests.models_registry import factories

pytestmark = pytest.mark.django_db

CARD = {
    "intended_use": "Drafts answers for support agents.",
    "out_of_scope_uses": "Credit decisions.",
    "limitations": "Invents policy numbers when the index has none.",
    "ethical_considerations": "Answers are reviewed by an agent before sending.",
}


@pytest.fixture
def cast(team):
    return scenarios.Cast(team)


def make_app_version(cast, *, risk_class="medium", card=CARD, temperature=0.2):
    prompt = factories.make_model(
        cast.author, cast.team, name="support-bot", kind="prompt"
    )
    services.prompt_version_register(
        actor=cast.author, model=prompt, template="Hello {{customer}}"
    )
    app = factories.make_model(
        cast.author,
        cast.team,
        name="support-app",
        kind="llm_app",
        risk_class=risk_class,
        offline_success_metrics=ACCURACY,
    )
    version, _ = services.llm_app_version_register(
        actor=cast.author,
        model=app,
        prompts=[{"name": "support-bot", "version": 1}],
        base_model="anthropic:claude-sonnet-4-5",
        temperature=temperature,
        max_tokens=512,
        card=card,
    )
    return version


def test_model_gates_do_not_apply_and_prompt_gates_do(cast):
    gates = gates_of(make_app_version(cast))
    for item in ("artifact_pinned", "offline_metrics_met", "no_leakage"):
        assert gates[item]["status"] == "not_applicable", item
    assert gates["model_card_complete"]["status"] == "not_applicable"
    assert gates["llm_eval_met"]["status"] == "fail"
    assert gates["llm_safety_eval"]["status"] == "fail"
    assert gates["prompt_card_complete"]["status"] == "pass"
    assert gates["prompt_eval_not_tuned"]["status"] == "fail"


def test_gates_pass_with_evaluations_and_fail_below(cast):
    version = make_app_version(cast)
    evaluate(cast, version, accuracy=0.6)
    gate = gates_of(version)["llm_eval_met"]
    assert (gate["status"], gate["reason"]) == ("fail", "accuracy 0.6, needs ≥ 0.7.")
    evaluate(cast, version, accuracy=0.9)
    evaluate(cast, version, is_safety=True, accuracy=0.95)
    gates = gates_of(version)
    for gate_id in (
        "llm_eval_met",
        "llm_safety_eval",
        "prompt_card_complete",
        "prompt_eval_not_tuned",
    ):
        assert gates[gate_id]["status"] == "pass", gates[gate_id]


def test_incomplete_application_card_fails(cast):
    version = make_app_version(cast, card={"intended_use": "Support answers."})
    gate = gates_of(version)["prompt_card_complete"]
    assert gate["status"] == "fail"
    assert "known failure modes" in gate["reason"]


def test_a_request_page_for_an_llm_app_shows_its_pins(cast, client):
    version = make_app_version(cast)
    evaluate(cast, version, accuracy=0.9)
    request = scenarios.request(cast, version, env="staging")
    stored = {gate["id"]: gate["status"] for gate in request.gate_results}
    assert stored["llm_eval_met"] == "pass"
    assert stored["llm_safety_eval"] == "fail"
    client.force_login(cast.reviewer)
    page = client.get(f"/approvals/requests/{request.pk}/")
    assert page.status_code == 200
    assert "Base model: anthropic:claude-sonnet-4-5" in page.content.decode()
