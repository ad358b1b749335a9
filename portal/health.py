"""Liveness of the parts the portal depends on: database, broker, workers."""

import logging
import time
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)

HEARTBEAT_KEY_PREFIX = "gatehouse:worker-heartbeat:"


@dataclass
class Check:
    is_ok: bool
    detail: str
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"ok": self.is_ok, "detail": self.detail, **self.extra}


def _redis_client():
    return redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
    )


def worker_heartbeat_write(hostname: str) -> None:
    try:
        _redis_client().set(
            HEARTBEAT_KEY_PREFIX + hostname,
            f"{time.time():.3f}",
            ex=settings.WORKER_HEARTBEAT_MAX_AGE * 10,
        )
    except redis.RedisError:
        logger.warning("could not write the worker heartbeat", exc_info=True)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return Check(False, f"unreachable: {type(error).__name__}")
    return Check(True, connection.vendor)


def check_broker_and_workers() -> tuple[Check, Check]:
    if not settings.REDIS_URL:
        eager = "no REDIS_URL: tasks run eagerly in the web process"
        return Check(True, eager), Check(True, eager)
    client = _redis_client()
    try:
        client.ping()
        keys = list(client.scan_iter(match=HEARTBEAT_KEY_PREFIX + "*", count=100))
        beats = client.mget(keys) if keys else []
    except redis.RedisError as error:
        broker = Check(False, f"unreachable: {type(error).__name__}")
        return broker, Check(False, "unknown: the broker is down")
    now = time.time()
    ages = {
        key.decode()[len(HEARTBEAT_KEY_PREFIX) :]: round(now - float(beat), 1)
        for key, beat in zip(keys, beats, strict=True)
        if beat is not None
    }
    fresh = {
        host: age
        for host, age in ages.items()
        if age <= settings.WORKER_HEARTBEAT_MAX_AGE
    }
    last = min(ages.values()) if ages else None
    extra = {"workers": sorted(fresh), "last_heartbeat_age_seconds": last}
    if fresh:
        return Check(True, "redis"), Check(True, f"{len(fresh)} alive", extra)
    detail = f"no heartbeat for {last:.0f}s" if ages else "no worker has reported"
    return Check(True, "redis"), Check(False, detail, extra)


def health_report() -> tuple[bool, dict]:
    database = check_database()
    broker, workers = check_broker_and_workers()
    checks = {"database": database, "broker": broker, "workers": workers}
    is_ok = all(check.is_ok for check in checks.values())
    return is_ok, {
        "status": "ok" if is_ok else "down",
        "down": [name for name, check in checks.items() if not check.is_ok],
        "checks": {name: check.as_dict() for name, check in checks.items()},
    }
