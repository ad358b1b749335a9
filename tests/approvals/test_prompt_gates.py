"""The gates of prompt versions: each passing and failing, and the trained-model
gates not applied to prompts."""

import itertools

import pytest

from approvals.gates import evaluate_gates
from approvals.models import ApprovalPolicy
from models_registry.models import EntryKind, RegisteredModel
from models_registry.services.llm_evaluations import (
    llm_evaluation_import,
    prompt_tuning_declare,
)
from tests.approvals import scenarios
from tests.models_registry import factories

pytestmark = pytest.mark.django_db

ACCURACY = [{"metric": "accuracy", "direction": "higher", "threshold": 0.7}]
_runs = itertools.count(1)


@pytest.fixture
def cast(team):
    return scenarios.Cast(team)


def make_prompt(cast, *, risk_class="medium", card=None):
    model = factories.make_model(
        cast.author,
        cast.team,
        name=f"assistant-{next(_runs)}",
        risk_class=risk_class,
        offline_success_metrics=ACCURACY,
    )
    RegisteredModel.objects.filter(pk=model.pk).update(kind=EntryKind.PROMPT)
    model.refresh_from_db()
    return factories.make_version(cast.author, model, card=card)


def evaluate(
    cast, version, *, is_safety=False, cases=("q1", "q2"), failing=0, **metrics
):
    document = {
        "harness": "in-house",
        "metrics": metrics,
        "cases": [
            {
                "input": f"{text} {next(_runs)}" if is_safety else text,
                "passed": index >= failing,
            }
            for index, text in enumerate(cases)
        ],
    }
    evaluation, _ = llm_evaluation_import(
        actor=cast.author,
        version=version,
        source_format="generic",
        document=document,
        is_safety=is_safety,
    )
    return evaluation


def gates_of(version, env="production"):
    policy = ApprovalPolicy.objects.get(
        risk_class=version.model.risk_class, environment__name=env
    )
    gates = evaluate_gates(
        version=version,
        environment=scenarios.environment(env),
        policy=policy,
        strategy="full",
        kind="deploy",
    )
    return {gate["id"]: gate for gate in gates}


def test_model_gates_do_not_apply_to_prompts(cast):
    gates = gates_of(make_prompt(cast))
    for item in ("artifact_pinned", "offline_metrics_met", "model_card_complete"):
        assert gates[item]["status"] == "not_applicable", item
    assert gates["no_leakage"]["status"] == "not_applicable"
    assert "llm_eval_met" in gates


def test_models_get_no_prompt_gates(cast):
    _, version = scenarios.passing_model(cast, risk_class="medium")
    gates = gates_of(version)
    assert "llm_eval_met" not in gates
    assert gates["artifact_pinned"]["status"] == "pass"


def test_eval_met_fails_without_or_below_and_passes_when_met(cast):
    version = make_prompt(cast)
    assert gates_of(version)["llm_eval_met"]["reason"] == (
        "No LLM evaluation of this version."
    )
    evaluate(cast, version, accuracy=0.6)
    gate = gates_of(version)["llm_eval_met"]
    assert (gate["status"], gate["reason"]) == (
        "fail",
        "accuracy 0.6, needs ≥ 0.7.",
    )
    evaluate(cast, version, accuracy=0.8)
    assert gates_of(version)["llm_eval_met"]["status"] == "pass"


def test_safety_evaluation_needed_from_medium_risk(cast):
    low = make_prompt(cast, risk_class="low")
    assert gates_of(low)["llm_safety_eval"]["status"] == "not_applicable"
    version = make_prompt(cast, risk_class="medium")
    evaluate(cast, version, accuracy=0.9)
    gate = gates_of(version)["llm_safety_eval"]
    assert gate["status"] == "fail"
    assert "needs a safety or red-team evaluation" in gate["reason"]
    evaluate(cast, version, is_safety=True, accuracy=0.5)
    gate = gates_of(version)["llm_safety_eval"]
    assert (gate["status"], gate["reason"].split(": ", 1)[1]) == (
        "fail",
        "accuracy 0.5, needs ≥ 0.7.",
    )
    # An attack suite's scores do not count as the everyday quality.
    assert gates_of(version)["llm_eval_met"]["status"] == "pass"
    evaluate(cast, version, is_safety=True, failing=1, accuracy=0.95)
    gate = gates_of(version)["llm_safety_eval"]
    assert (gate["status"], gate["reason"].split(": ", 1)[1]) == (
        "fail",
        "1 of 2 attack cases got through.",
    )
    evaluate(cast, version, is_safety=True, accuracy=0.95)
    assert gates_of(version)["llm_safety_eval"]["status"] == "pass"


def test_no_regression_against_live_within_the_tolerance(cast):
    scenarios.set_policy(
        "low",
        "staging",
        prompt_gate_items=["llm_eval_met", "llm_no_regression"],
        llm_regression_tolerance=0.02,
    )
    live = make_prompt(cast, risk_class="low")
    assert gates_of(live, "staging")["llm_no_regression"]["status"] == (
        "not_applicable"
    )
    evaluate(cast, live, accuracy=0.9)
    scenarios.deploy(cast, live, env="staging")
    model = live.model
    worse = factories.make_version(cast.author, model)
    evaluate(cast, worse, cases=("w",), accuracy=0.85)
    gate = gates_of(worse, "staging")["llm_no_regression"]
    assert gate["status"] == "fail"
    assert "accuracy 0.85 vs live 0.9" in gate["reason"]
    close = factories.make_version(cast.author, model)
    evaluate(cast, close, cases=("c",), accuracy=0.89)
    assert gates_of(close, "staging")["llm_no_regression"]["status"] == "pass"


def test_prompt_card_complete(cast):
    partial = make_prompt(cast, card={"intended_use": "Answer card questions."})
    gate = gates_of(partial)["prompt_card_complete"]
    assert gate["status"] == "fail"
    assert gate["reason"] == (
        "Empty: out-of-scope use, known failure modes, safety mitigations."
    )
    assert gates_of(make_prompt(cast))["prompt_card_complete"]["status"] == "pass"


def test_eval_set_the_prompt_was_tuned_on_fails(cast):
    version = make_prompt(cast)
    assert gates_of(version)["prompt_eval_not_tuned"]["status"] == "fail"
    evaluation = evaluate(cast, version, accuracy=0.9)
    assert gates_of(version)["prompt_eval_not_tuned"]["status"] == "pass"
    prompt_tuning_declare(
        actor=cast.author, version=version, snapshot=evaluation.dataset
    )
    gate = gates_of(version)["prompt_eval_not_tuned"]
    assert gate["status"] == "fail"
    assert "which the prompt was tuned on" in gate["reason"]


def test_a_request_for_a_prompt_stores_the_failing_safety_gate(cast):
    version = make_prompt(cast, risk_class="medium")
    evaluate(cast, version, accuracy=0.9)
    request = scenarios.request(cast, version, env="staging")
    stored = {gate["id"]: gate["status"] for gate in request.gate_results}
    assert stored["llm_safety_eval"] == "fail"
    assert stored["llm_eval_met"] == "pass"
