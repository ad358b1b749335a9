"""An LLM call batch through a real Redis and a real Celery worker: acknowledged
by the API, applied once by the worker (the stored batch is the outbox, as for
predictions: see test_worker.py for a worker killed mid-batch)."""

import pytest

from monitoring.models import MonitoringBatch, MonitoringWindow, ReviewItem
from tests.monitoring.batches import hour_ago, json_rows, post_json, url
from tests.monitoring.llm_calls import LLM_CALLS, call_rows
from tests.monitoring.test_worker import (  # noqa: F401 (fixtures)
    _applied,
    _start_worker,
    _wait,
    broker,
    world,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_worker_applies_an_llm_batch_once(broker, world):  # noqa: F811
    worker = _start_worker(broker)
    try:
        rows = call_rows(500, start=hour_ago(3), flagged={7: ["violence"]})
        body = json_rows("llm-worker", rows)
        response = post_json(world, url(LLM_CALLS), body)
        assert response.status_code == 202, response.json()
        again = post_json(world, url(LLM_CALLS), body)
        assert again.status_code == 200
        batch = _wait(lambda: _applied(response.json()["id"]), "the LLM batch")
    finally:
        worker.stop()
    assert batch.result["rows"] == 500
    assert MonitoringBatch.objects.count() == 1
    assert MonitoringWindow.objects.get().llm["calls"] == 500
    assert list(ReviewItem.objects.values_list("prediction_id", flat=True)) == ["c7"]
