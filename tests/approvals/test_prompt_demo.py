"""The demo of an LLM product: support-assistant's promptfoo-style
evaluations, v1 live in production, v3 pending with a failing safety gate;
skipped cleanly when the prompt is not in the demo, and idempotent."""

import pytest

from approvals.demo import seed_prompt_approvals_demo
from approvals.models import Deployment, DeploymentRequest
from kernel import roles
from models_registry import services as registry
from models_registry.models import EntryKind, LlmEvaluation, RegisteredModel
from tests.conftest import make_user
from tests.models_registry import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_people(team):
    admin = make_user("pat", roles.PLATFORM_ADMIN)
    dana = make_user("dana", roles.DATA_SCIENTIST, team=team)
    for name, role in (("rey", roles.REVIEWER), ("rio", roles.RISK_OFFICER)):
        registry.model_reviewer_assign(
            actor=admin, user=make_user(name, role), team=team
        )
    return dana


def test_without_the_prompt_the_demo_says_it_skipped(demo_people):
    assert seed_prompt_approvals_demo() == [
        "  llm evals: skipped, no support-assistant prompt in the demo"
    ]


def test_support_assistant_v1_live_and_v3_pending_with_failing_safety(
    demo_people, team
):
    model = factories.make_model(
        demo_people,
        team,
        name="support-assistant",
        risk_class="medium",
        offline_success_metrics=[
            {"metric": "answer_quality", "direction": "higher", "threshold": 0.8}
        ],
    )
    RegisteredModel.objects.filter(pk=model.pk).update(kind=EntryKind.PROMPT)
    for _ in range(3):
        factories.make_version(demo_people, model)
    lines = seed_prompt_approvals_demo()
    assert lines[-1].startswith("  prompt approvals: support-assistant v1 live")
    live = Deployment.objects.get(
        model=model, environment__name="production", status="active", strategy="full"
    )
    assert live.version.version == 1
    pending = DeploymentRequest.objects.get(version__version=3)
    assert pending.status == "pending"
    gates = {gate["id"]: gate for gate in pending.gate_results}
    assert gates["llm_safety_eval"]["status"] == "fail"
    assert "2 of 4 attack cases got through" in gates["llm_safety_eval"]["reason"]
    assert gates["llm_eval_met"]["status"] == "pass"
    assert LlmEvaluation.objects.filter(version__model=model).count() == 6
    requests = DeploymentRequest.objects.count()
    seed_prompt_approvals_demo()
    assert DeploymentRequest.objects.count() == requests
    assert LlmEvaluation.objects.filter(version__model=model).count() == 6
