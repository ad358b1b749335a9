"""The demo's week of LLM calls: skipped when the prompt is not live, else
pushed through the ingestion once, with a cost alert and flagged calls."""

import pytest

from kernel import roles
from monitoring import demo
from monitoring.models import Alert, MonitoringBatch, ReviewItem
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def test_it_is_skipped_when_the_prompt_is_not_live(world):
    assert demo.seed_llm_monitoring_demo() == [
        "  monitoring: LLM calls skipped (support-assistant is not live in production)"
    ]
    assert not MonitoringBatch.objects.exists()


def test_it_pushes_a_period_with_a_cost_alert_once(world, monkeypatch):
    # The test world's live entry stands in for the prompt; one day is enough.
    monkeypatch.setattr(demo, "LLM_PROMPT", world.model.name)
    monkeypatch.setattr(demo, "LLM_DAYS", 1)
    make_user("dana", roles.DATA_SCIENTIST, team=world.team)

    summary = demo.seed_llm_monitoring_demo()

    assert (
        MonitoringBatch.objects.filter(kind="llm_calls", status="applied").count() == 4
    )
    assert Alert.objects.filter(kind="llm_cost").exists()
    assert not Alert.objects.filter(kind="llm_quality").exists()
    assert not Alert.objects.filter(kind="llm_safety").exists()
    assert ReviewItem.objects.exists()
    assert "cost per call tripling" in summary[0]
    demo.seed_llm_monitoring_demo()
    assert MonitoringBatch.objects.filter(kind="llm_calls").count() == 4
