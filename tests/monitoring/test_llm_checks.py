"""Checks of LLM call windows: cost spikes (configured and trailing baselines),
quality drops of judge scores against the eval baseline, safety-flag rates,
each firing and not firing through the monitoring alerts; flagged calls in
the human review queue."""

import pytest

from models_registry.models import Evaluation, LlmEvaluation, Split
from monitoring.models import Alert, AlertSeverity, ReviewItem, ReviewReason
from monitoring.services.config import monitoring_config_set
from monitoring.services.review import review_item_label
from tests.monitoring.batches import check_all, hour_ago, ingest, results_of
from tests.monitoring.conftest import client_for
from tests.monitoring.llm_calls import call_rows

pytestmark = pytest.mark.django_db

LLM = "llm_calls"


def _limits(world, **llm):
    monitoring_config_set(
        actor=world.users.requester, model_name=world.model.name, values={"llm": llm}
    )


def test_a_cost_spike_against_the_configured_baseline_opens_an_alert(world):
    _limits(world, cost_per_call_baseline=0.002)
    ingest(world, call_rows(40, start=hour_ago(4), cost=0.0025), "a", kind=LLM)
    ingest(
        world, call_rows(40, start=hour_ago(3), prefix="b", cost=0.005), "b", kind=LLM
    )
    ingest(
        world, call_rows(40, start=hour_ago(2), prefix="c", cost=0.007), "c", kind=LLM
    )

    check_all()

    assert results_of("llm_cost", hour_ago(4)) == {"": ("ok", "none")}
    assert results_of("llm_cost", hour_ago(3)) == {"": ("ok", "warning")}
    assert results_of("llm_cost", hour_ago(2)) == {"": ("ok", "critical")}
    alert = Alert.objects.get(kind="llm_cost")
    # A critical verdict on a high-risk model: a critical alert, raised once.
    assert (alert.severity, alert.occurrences) == (AlertSeverity.CRITICAL, 2)
    assert alert.title == "LLM cost spike"


def test_the_cost_baseline_is_the_previous_days_when_none_is_configured(world):
    ingest(world, call_rows(40, start=hour_ago(5), cost=0.002), "a", kind=LLM)
    ingest(
        world, call_rows(40, start=hour_ago(4), prefix="b", cost=0.0021), "b", kind=LLM
    )
    ingest(
        world, call_rows(40, start=hour_ago(3), prefix="c", cost=0.0062), "c", kind=LLM
    )

    check_all()

    assert results_of("llm_cost", hour_ago(5)) == {"": ("no_baseline", "none")}
    assert results_of("llm_cost", hour_ago(4)) == {"": ("ok", "none")}
    assert results_of("llm_cost", hour_ago(3)) == {"": ("ok", "critical")}


def test_too_few_calls_are_not_judged_for_cost(world):
    _limits(world, cost_per_call_baseline=0.001)
    ingest(world, call_rows(10, start=hour_ago(3), cost=0.01), "a", kind=LLM)
    check_all()
    assert results_of("llm_cost") == {"": ("insufficient_data", "none")}
    assert not Alert.objects.exists()


def test_a_judge_score_drop_against_the_configured_baseline_is_a_quality_alert(
    world,
):
    _limits(world, judge_baselines={"faithfulness": 0.9})
    ingest(
        world,
        call_rows(30, start=hour_ago(4), judge={"faithfulness": [0.88] * 30}),
        "a",
        kind=LLM,
    )
    ingest(
        world,
        call_rows(
            30, start=hour_ago(3), prefix="b", judge={"faithfulness": [0.82] * 30}
        ),
        "b",
        kind=LLM,
    )
    ingest(
        world,
        call_rows(
            30, start=hour_ago(2), prefix="c", judge={"faithfulness": [0.5] * 10}
        ),
        "c",
        kind=LLM,
    )

    check_all()

    assert results_of("llm_quality", hour_ago(4)) == {"faithfulness": ("ok", "none")}
    assert results_of("llm_quality", hour_ago(3)) == {"faithfulness": ("ok", "warning")}
    assert results_of("llm_quality", hour_ago(2)) == {
        "faithfulness": ("insufficient_data", "none")
    }
    alert = Alert.objects.get(kind="llm_quality")
    assert (alert.subject, alert.severity) == ("faithfulness", AlertSeverity.HIGH)


def test_the_judge_baseline_falls_back_to_the_latest_evaluation(world):
    reference = world.v2.evaluations.filter(split=Split.TEST).first()
    Evaluation.objects.create(
        version=world.v2,
        split=Split.TEST,
        dataset=reference.dataset,
        metrics={**reference.metrics, "relevance": 0.95},
        created_by=world.users.author,
    )
    ingest(
        world,
        call_rows(
            30,
            start=hour_ago(3),
            judge={"relevance": [0.7] * 30, "tone": [0.1] * 30},
        ),
        "a",
        kind=LLM,
    )

    check_all()

    assert results_of("llm_quality") == {
        "relevance": ("ok", "critical"),
        "tone": ("no_baseline", "none"),
    }


def test_the_latest_eval_harness_result_is_the_judge_baseline(world):
    dataset = world.v2.evaluations.first().dataset
    for sha, faithfulness, safety in (
        ("a", 0.7, False),
        ("b", 0.93, False),
        ("c", 0.1, True),
    ):
        LlmEvaluation.objects.create(
            version=world.v2,
            source_format="promptfoo",
            harness="promptfoo",
            dataset=dataset,
            metrics={"faithfulness": faithfulness},
            is_safety=safety,
            case_count=10,
            passed_count=9,
            source_sha256=sha * 64,
            created_by=world.users.author,
        )
    ingest(
        world,
        call_rows(30, start=hour_ago(3), judge={"faithfulness": [0.85] * 30}),
        "a",
        kind=LLM,
    )

    check_all()

    # 0.93 (the latest harness result, safety evaluations aside) - 0.85 > 0.05
    assert results_of("llm_quality") == {"faithfulness": ("ok", "warning")}
    result = Alert.objects.get(kind="llm_quality").details
    assert result["baseline"] == 0.93


def test_safety_flag_rates_fire_above_the_limits_only(world):
    flag = ["self_harm"]
    ingest(world, call_rows(100, start=hour_ago(4), flagged={0: flag}), "a", kind=LLM)
    ingest(
        world,
        call_rows(
            100, start=hour_ago(3), prefix="b", flagged=dict.fromkeys(range(3), flag)
        ),
        "b",
        kind=LLM,
    )
    ingest(
        world,
        call_rows(
            100, start=hour_ago(2), prefix="c", flagged=dict.fromkeys(range(9), flag)
        ),
        "c",
        kind=LLM,
    )

    check_all()

    assert results_of("llm_safety", hour_ago(4)) == {"": ("ok", "none")}
    assert results_of("llm_safety", hour_ago(3)) == {"": ("ok", "warning")}
    assert results_of("llm_safety", hour_ago(2)) == {"": ("ok", "critical")}
    assert Alert.objects.get(kind="llm_safety").severity == AlertSeverity.CRITICAL


def test_bad_limits_are_refused_and_change_nothing(world):
    from monitoring.errors import MonitoringInvalid

    with pytest.raises(MonitoringInvalid) as refused:
        _limits(world, cost_spike_warning=-1)
    assert refused.value.fields == {
        "llm": ["cost_spike_warning: a finite number, not negative."]
    }
    with pytest.raises(MonitoringInvalid):
        _limits(world, judge_baselines={"faithfulness": "high"})
    response = world.client.get(f"/api/v1/monitoring/models/{world.model.name}/config")
    assert response.json()["llm"]["cost_spike_warning"] == 1.5


def test_flagged_calls_join_the_review_queue_safety_first_and_once(world, settings):
    settings.MONITORING_REVIEW_PER_WINDOW = 3
    rows = call_rows(
        20,
        start=hour_ago(3),
        flagged={4: ["violence"], 9: ["pii"]},
        thumbs={1: "down", 2: "down", 3: "up"},
    )
    rows[1]["feedback_text"] = "It made up a fee."
    ingest(world, rows, "a", kind=LLM)

    items = list(ReviewItem.objects.order_by("pk"))
    assert [(item.prediction_id, item.reason) for item in items] == [
        ("c4", ReviewReason.SAFETY_FLAG),
        ("c9", ReviewReason.SAFETY_FLAG),
        ("c1", ReviewReason.THUMBS_DOWN),
    ]
    assert items[2].features["User comment"] == "It made up a fee."
    assert items[0].features["Safety flags"] == "violence"

    # Another batch in the same hour: the window's cap is reached.
    more = call_rows(5, start=hour_ago(3), prefix="x", thumbs={0: "down"})
    ingest(world, more, "b", kind=LLM)
    assert ReviewItem.objects.count() == 3


def test_a_reviewer_sees_and_labels_a_flagged_call_and_another_team_gets_404(world):
    ingest(
        world,
        call_rows(5, start=hour_ago(3), flagged={0: ["violence"]}),
        "a",
        kind=LLM,
    )
    item = ReviewItem.objects.get()
    page = client_for(None)
    page.force_login(world.users.requester)
    response = page.get(f"/monitoring/review/{item.pk}/")
    assert response.status_code == 200
    assert "Safety flag" in response.content.decode()
    stranger = client_for(None)
    stranger.force_login(world.users.stranger)
    assert stranger.get(f"/monitoring/review/{item.pk}/").status_code == 404

    labelled = review_item_label(actor=world.users.reviewer, item_id=item.pk, label="0")
    assert labelled.status == "labelled"
