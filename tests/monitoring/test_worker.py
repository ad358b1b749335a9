"""Batches with a real Redis and real Celery workers: a worker killed with SIGKILL
half way through a batch loses nothing and counts nothing twice; a batch that
arrives while Redis is down is acknowledged and applied once Redis is back."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from monitoring import tasks
from monitoring.models import (
    BatchStatus,
    FeatureProfile,
    MonitoringBatch,
    MonitoringWindow,
    PredictionRecord,
)
from portal.celery import app
from tests.monitoring.batches import (
    PREDICTIONS,
    hour_ago,
    json_rows,
    post_json,
    prediction_rows,
    url,
)
from tests.monitoring.conftest import FAST_HASHER, build_world, client_for
from tests.monitoring.worker_settings import PAUSE_MARKER
from tests.services import CeleryWorker, RedisServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

ROWS = 3000
DEADLINE = 90


def _database_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def _point_app_at(broker_url: str) -> None:
    """Publish to this broker from the test process (drops pooled connections)."""
    app.conf.broker_url = broker_url
    app._after_fork()


@pytest.fixture
def broker():
    server = RedisServer()
    previous = app.conf.broker_url
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    _point_app_at(server.url)
    yield server
    server.stop()
    app.conf.task_always_eager = eager
    _point_app_at(previous)


@pytest.fixture
def world():
    with override_settings(PASSWORD_HASHERS=FAST_HASHER):
        ids = build_world()
    from django.contrib.auth import get_user_model

    requester = get_user_model().objects.get(pk=ids["people"]["requester"])
    return client_for(requester)


def _start_worker(broker, **env) -> CeleryWorker:
    return CeleryWorker(
        redis_url=broker.url,
        extra_env={"DATABASE_URL": _database_url(), **env},
    )


def _wait(condition, what: str, timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _paused_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state = 'idle in transaction' AND query = %s",
            [f"SELECT '{PAUSE_MARKER}'"],
        )
        return cursor.fetchone()[0]


def _applied(batch_id: int):
    batch = MonitoringBatch.objects.get(pk=batch_id)
    return batch if batch.status == BatchStatus.APPLIED else None


def test_a_worker_killed_mid_batch_applies_it_exactly_once_after_a_restart(
    world, broker
):
    worker = _start_worker(
        broker,
        DJANGO_SETTINGS_MODULE="tests.monitoring.worker_settings",
        MONITORING_APPLY_PAUSE_SECONDS="4",
    )
    response = post_json(
        world,
        url(PREDICTIONS),
        json_rows("kill-me", prediction_rows(ROWS, start=hour_ago(3))),
    )
    assert response.status_code == 202
    batch_id = response.json()["id"]
    try:
        # The worker's pool process is inside the batch's transaction, with every
        # window row and index row written but the batch not yet marked applied.
        _wait(_paused_backends, "the aggregation to reach its pause")
        [child] = _children(worker.process.pid)
        os.kill(child, signal.SIGKILL)
        # Then the whole worker dies too (its process group), before it can
        # do anything about the lost child: the message may stay unacknowledged.
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=30)
    finally:
        worker.stop()
    _wait(lambda: _paused_backends() == 0, "the killed transaction to end")
    batch = MonitoringBatch.objects.get(pk=batch_id)
    assert batch.status == BatchStatus.PENDING
    assert MonitoringWindow.objects.filter(prediction_count__gt=0).count() == 0
    assert PredictionRecord.objects.count() == 0

    restarted = _start_worker(broker)
    try:
        # The redelivered message (if the worker requeued it) and the sweeper
        # (if it did not) may both run the batch: it is applied once.
        with override_settings(MONITORING_SWEEP_AFTER_SECONDS=0):
            tasks.sweep_pending_batches()
        batch = _wait(lambda: _applied(batch_id), "the batch to be applied")
    finally:
        restarted.stop()
    assert batch.attempts >= 2
    window = MonitoringWindow.objects.get()
    assert (window.prediction_count, window.revision) == (ROWS, 1)
    assert window.latency_count == ROWS
    assert PredictionRecord.objects.count() == ROWS
    assert dict(FeatureProfile.objects.values_list("feature", "count")) == {
        "income": ROWS,
        "region": ROWS,
    }


def _restart_redis(server: RedisServer) -> None:
    server.process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis.from_url(server.url)
    _wait(lambda: _pings(client), "Redis to come back", timeout=10)


def _pings(client) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_a_batch_sent_while_redis_is_down_is_acknowledged_and_applied_later(
    world, broker, caplog
):
    broker.stop()
    started = time.monotonic()
    response = post_json(
        world,
        url(PREDICTIONS),
        json_rows("while-down", prediction_rows(200, start=hour_ago(2))),
    )
    assert response.status_code == 202
    assert time.monotonic() - started < 15
    batch_id = response.json()["id"]
    batch = MonitoringBatch.objects.get(pk=batch_id)
    assert (batch.status, batch.attempts) == (BatchStatus.PENDING, 0)
    assert "enqueue_monitoring_batch" in caplog.text  # the lost enqueue is logged

    _restart_redis(broker)
    _point_app_at(broker.url)
    worker = _start_worker(broker)
    try:
        with override_settings(MONITORING_SWEEP_AFTER_SECONDS=0):
            assert tasks.sweep_pending_batches() == 1
        batch = _wait(lambda: _applied(batch_id), "the swept batch to be applied")
    finally:
        worker.stop()
    assert batch.attempts == 1
    assert MonitoringWindow.objects.get().prediction_count == 200
    assert PredictionRecord.objects.count() == 200
