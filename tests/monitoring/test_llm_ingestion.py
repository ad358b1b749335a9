"""LLM call batches: JSON rows, JSON columns and Parquet through the monitoring
ingestion, counted exactly into their windows, idempotent by batch id, every
bad input refused with a 400 naming the rows and storing nothing, and who may
push and read."""

import json
import math

import pyarrow as pa
import pytest

from monitoring.models import BatchStatus, MonitoringBatch, MonitoringWindow
from tests.monitoring.batches import (
    hour_ago,
    json_columns,
    json_rows,
    monitoring_counts,
    parquet,
    post_json,
    post_parquet,
    url,
)
from tests.monitoring.conftest import client_for
from tests.monitoring.llm_calls import LLM_CALLS, LLM_PERIOD, call_rows

pytestmark = pytest.mark.django_db


def _known_rows():
    """Ten calls with known sums: 3 safety flags on 2 calls, 1 refusal,
    2 thumbs up, 1 thumbs down, faithfulness judged on 4 calls."""
    rows = call_rows(
        10,
        start=hour_ago(3),
        flagged={1: ["self_harm", "violence"], 4: ["violence"]},
        thumbs={2: "up", 3: "up", 5: "down"},
        refusals={7},
        judge={"faithfulness": [0.9, None, 0.7, None, 0.8, None, 0.6]},
        version=2,
    )
    for index, row in enumerate(rows):
        row["input_tokens"] = 100 + index  # 1045 in all
        row["cost"] = 0.001 * (index + 1)  # 0.055 in all
        row["latency_ms"] = 100.0 * (index + 1)
    rows[5]["feedback_text"] = "Wrong account balance."
    return rows


def _assert_known_window():
    window = MonitoringWindow.objects.get()
    stats = window.llm
    assert stats["calls"] == 10
    assert stats["input_tokens"] == 1045
    assert stats["output_tokens"] == 500
    assert stats["cost"] == pytest.approx(0.055)
    assert stats["refusals"] == 1
    assert stats["safety_flagged"] == 2
    assert stats["safety"] == {"self_harm": 1, "violence": 2}
    assert (stats["thumbs_up"], stats["thumbs_down"], stats["feedback"]) == (2, 1, 3)
    assert stats["feedback_text"] == 1
    assert stats["models"] == {"openai:gpt-4.1": 10}
    assert stats["finish"] == {"stop": 10}
    judged = stats["judge"]["faithfulness"]
    assert judged["count"] == 4
    assert judged["sum"] == pytest.approx(3.0)
    assert window.latency_count == 10
    return window


def _push_json(world, body):
    return post_json(world.client, url(LLM_CALLS), body)


def test_a_json_batch_of_calls_is_stored_and_counted_exactly(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _push_json(world, json_rows("llm-1", _known_rows()))

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["kind"], body["rows"], body["duplicate"]) == ("llm_calls", 10, False)
    batch = MonitoringBatch.objects.get()
    assert (batch.kind, batch.status, batch.format) == (
        "llm_calls",
        BatchStatus.APPLIED,
        "json_rows",
    )
    assert batch.target.version_id == world.v2.pk
    _assert_known_window()


def test_a_parquet_batch_with_lists_and_a_judge_struct_counts_the_same(
    world, django_capture_on_commit_callbacks
):
    rows = _known_rows()
    for row in rows:
        row["judge_scores"] = {
            "faithfulness": (row.get("judge_scores") or {}).get("faithfulness")
        }
        row.setdefault("feedback_text", None)
    body = parquet(
        rows,
        safety_flags=pa.list_(pa.string()),
        judge_scores=pa.struct([("faithfulness", pa.float64())]),
        feedback=pa.string(),
        feedback_text=pa.string(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post_parquet(world.client, url(LLM_CALLS), body, batch_id="llm-pq")

    assert response.status_code == 202, response.json()
    assert MonitoringBatch.objects.get().format == "parquet"
    _assert_known_window()


def test_the_column_layout_takes_one_column_per_judge_metric(
    world, django_capture_on_commit_callbacks
):
    rows = _known_rows()
    for row in rows:
        row["judge.faithfulness"] = (row.pop("judge_scores", None) or {}).get(
            "faithfulness"
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = _push_json(world, json_columns("llm-cols", rows))

    assert response.status_code == 202, response.json()
    _assert_known_window()


def test_a_resent_batch_is_counted_once_and_other_content_is_refused(
    world, django_capture_on_commit_callbacks
):
    body = json_rows("llm-1", _known_rows())
    with django_capture_on_commit_callbacks(execute=True):
        first = _push_json(world, body)
        again = _push_json(world, body)
        other = _push_json(world, json_rows("llm-1", _known_rows()[:5]))

    assert (first.status_code, again.status_code, other.status_code) == (202, 200, 409)
    assert again.json()["duplicate"] is True
    assert MonitoringBatch.objects.count() == 1
    assert MonitoringWindow.objects.get().llm["calls"] == 10


def _refused(world, rows, **extra):
    before = monitoring_counts()
    text = json.dumps({"batch_id": "bad", "records": rows, **extra})
    response = _push_json(world, text.encode())
    assert response.status_code == 400, response.json()
    assert monitoring_counts() == before
    return response.json()["fields"]


def test_negative_tokens_are_refused_naming_the_rows(world):
    rows = call_rows(8, start=hour_ago(2))
    rows[3]["input_tokens"] = -1
    rows[6]["input_tokens"] = -5
    rows[2]["output_tokens"] = 1.5
    fields = _refused(world, rows)
    assert fields["input_tokens"] == ["Rows 3, 6: must not be negative."]
    assert fields["output_tokens"] == ["Row 2: a whole number of tokens."]


def test_a_nan_or_missing_cost_is_refused(world):
    rows = call_rows(5, start=hour_ago(2))
    rows[1]["cost"] = float("nan")
    rows[4]["cost"] = None
    assert _refused(world, rows)["cost"] == [
        "Rows 1, 4: a value is required (null or NaN)."
    ]


def test_a_nan_cost_in_parquet_is_refused(world):
    rows = call_rows(5, start=hour_ago(2))
    rows[2]["cost"] = math.nan
    before = monitoring_counts()
    response = post_parquet(
        world.client,
        url(LLM_CALLS),
        parquet(rows, safety_flags=pa.list_(pa.string()), feedback=pa.string()),
        batch_id="bad-pq",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["cost"] == [
        "Row 2: a value is required (null or NaN)."
    ]
    assert monitoring_counts() == before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"latency_ms": -3}, "latency_ms", "Row 0: must not be negative."),
        ({"feedback": "meh"}, "feedback", "Row 0: up, down or null."),
        ({"refusal": "no"}, "refusal", "Row 0: true or false, not text."),
        (
            {"safety_flags": "violence"},
            "safety_flags",
            "Row 0: a list of category names (text), not text.",
        ),
        (
            {"prompt_version": 1},
            "prompt_version",
            "Row 0: this batch is for version 2: send the calls of other versions "
            "in their own batches.",
        ),
        ({"surprise": 1}, "surprise", "Unknown column."),
        ({"judge_scores": {"9bad": 0.5}}, "judge.9bad", None),
        ({"feedback_text": "x" * 2001}, "feedback_text", None),
    ],
)
def test_bad_values_are_refused_with_the_column_and_row(world, change, field, message):
    rows = call_rows(3, start=hour_ago(2))
    rows[0].update(change)
    fields = _refused(world, rows)
    assert field in fields, fields
    if message:
        assert fields[field] == [message]


def test_nul_in_a_parquet_text_is_refused(world):
    rows = call_rows(3, start=hour_ago(2))
    for row in rows:
        row["feedback_text"] = "fine"
    rows[1]["feedback_text"] = "bad\x00text"
    response = post_parquet(
        world.client,
        url(LLM_CALLS),
        parquet(rows, safety_flags=pa.list_(pa.string()), feedback=pa.string()),
        batch_id="nul",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["feedback_text"] == [
        "Row 1: NUL characters are not allowed."
    ]
    assert MonitoringBatch.objects.count() == 0


def test_a_missing_required_column_is_named(world):
    rows = call_rows(3, start=hour_ago(2))
    for row in rows:
        del row["cost"]
    assert _refused(world, rows)["cost"] == ["Required column missing."]


def test_repeated_call_ids_are_refused(world):
    rows = call_rows(3, start=hour_ago(2))
    rows[2]["call_id"] = rows[0]["call_id"]
    assert _refused(world, rows)["call_id"] == [
        "Must be unique in a batch: 'c0' is repeated."
    ]


def test_another_team_gets_404_and_an_auditor_reads_but_may_not_push(
    world, django_capture_on_commit_callbacks
):
    body = json_rows("llm-1", _known_rows())
    stranger = client_for(world.users.stranger)
    auditor = client_for(world.users.auditor)
    assert post_json(stranger, url(LLM_CALLS), body).status_code == 404
    assert stranger.get(url(LLM_PERIOD)).status_code == 404
    assert post_json(auditor, url(LLM_CALLS), body).status_code == 403
    assert MonitoringBatch.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        assert _push_json(world, body).status_code == 202
    response = auditor.get(url(LLM_PERIOD))
    assert response.status_code == 200
    assert response.json()["total"]["calls"] == 10


def test_the_period_reads_per_call_per_day_and_latency_percentiles(
    world, django_capture_on_commit_callbacks
):
    world.model.latency_slo_ms = 800
    world.model.save(update_fields=["latency_slo_ms"])
    with django_capture_on_commit_callbacks(execute=True):
        _push_json(world, json_rows("llm-1", _known_rows()))

    response = world.client.get(url(LLM_PERIOD) + "?days=7")

    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["latency_slo_ms"], data["latency_slo_percentile"]) == (800.0, 99)
    total = data["total"]
    assert total["calls"] == 10
    assert total["tokens"] == 1545
    assert total["cost_per_call"] == pytest.approx(0.0055)
    assert total["tokens_per_call"] == pytest.approx(154.5)
    assert total["refusal_rate"] == pytest.approx(0.1)
    assert total["safety_flag_rate"] == pytest.approx(0.2)
    assert total["feedback_rate"] == pytest.approx(0.3)
    assert total["thumbs_down_share"] == pytest.approx(1 / 3)
    assert total["judge"]["faithfulness"]["mean"] == pytest.approx(0.75)
    assert total["latency_p50"] == pytest.approx(500, rel=0.03)
    assert total["latency_p99"] == pytest.approx(1000, rel=0.03)
    assert len(data["daily"]) == 1
    assert data["daily"][0]["cost"] == pytest.approx(0.055)
    assert len(data["hours"]) == 1
    assert data["hours"][0]["version"] == 2
    assert world.client.get(url(LLM_PERIOD) + "?days=5").status_code == 400
