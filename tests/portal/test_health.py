import time

import pytest
from django.urls import reverse

from portal.health import worker_heartbeat_write
from tests.services import CeleryWorker, RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(settings):
    server = RedisServer()
    settings.REDIS_URL = server.url
    yield server
    server.stop()


def _health(client):
    response = client.get(reverse("healthz"))
    return response.status_code, response.json()


def test_all_parts_up(client, broker):
    worker_heartbeat_write("worker@test")
    status, body = _health(client)
    assert status == 200
    assert body["status"] == "ok"
    assert body["down"] == []
    assert body["checks"]["database"] == {"ok": True, "detail": "postgresql"}
    assert body["checks"]["workers"]["workers"] == ["worker@test"]


def test_stopped_broker_is_reported_down(client, broker):
    worker_heartbeat_write("worker@test")
    assert _health(client)[0] == 200
    broker.stop()
    status, body = _health(client)
    assert status == 503
    assert body["status"] == "down"
    assert "broker" in body["down"]
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_no_worker_heartbeat_is_reported_down(client, broker):
    status, body = _health(client)
    assert status == 503
    assert body["down"] == ["workers"]
    assert body["checks"]["workers"]["detail"] == "no worker has reported"


def test_stale_heartbeat_is_reported_down(client, broker, settings):
    import redis

    from portal.health import HEARTBEAT_KEY_PREFIX

    redis.Redis.from_url(broker.url).set(
        HEARTBEAT_KEY_PREFIX + "old@host", time.time() - 3600
    )
    status, body = _health(client)
    assert status == 503
    assert body["checks"]["workers"]["detail"].startswith("no heartbeat for 36")


def test_database_down_is_reported(client, settings, monkeypatch):
    from django.db import connection

    settings.REDIS_URL = ""

    def broken_cursor(*args, **kwargs):
        raise connection.OperationalError("gone")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    status, body = _health(client)
    assert status == 503
    assert body["down"] == ["database"]


@pytest.mark.slow
def test_a_real_worker_reports_its_heartbeat(client, broker):
    worker = CeleryWorker(redis_url=broker.url)
    try:
        deadline = time.monotonic() + 60
        status, body = _health(client)
        while status != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
            status, body = _health(client)
        assert status == 200, body
        assert len(body["checks"]["workers"]["workers"]) == 1
    finally:
        worker.stop()
