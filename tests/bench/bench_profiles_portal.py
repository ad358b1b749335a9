"""Benchmark the portal side of window profiles (issue #15): profiles ingested
per second, and the checks of a window fed by profiles, flat in rows.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse DEBUG=1 \\
        .venv/bin/python tests/bench/bench_profiles_portal.py

It never touches the database named in DATABASE_URL: it drops and recreates a
scratch database ``gatehouse_bench_profiles`` on the same server and drops it
again at the end. Everything runs in this process (Django's test client for
HTTP, the aggregation and checks called directly; no Celery, no gunicorn), so
the figures are the portal's code on one core.

The world: a model with 50 features (45 numeric, 5 categorical), one fairness
attribute, and a reference sample of 20,000 rows. Documents are built by the
client library (``gatehouse_client.profile.profile_table``) before the clock
starts, each holding one hourly window of 50 feature profiles plus score,
latency, label outcomes and segments, from ``--rows`` rows (default 1,000) and
from 100 times as many, to show that the cost does not depend on the rows.

Printed:

* POST .../profiles (HTTP through the test client, JSON and binary bodies):
  documents/s received (checked and stored);
* the worker's merge (``batch_apply``): documents/s applied;
* every check of one window fed by profiles (``window_check``: drift, skew,
  latency, performance, KPIs, fairness, results stored) and the drift
  evaluation alone (``evaluate_window`` on the stored profiles), median of
  ``--runs``; target: drift under 100 ms for 50 features, flat in rows.

Wall-clock figures include PostgreSQL's time and whatever else the machine
runs; the CPU figures are this process's own.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "gatehouse_bench_profiles"
NUMERIC = 45
CATEGORICAL = 5
TARGET_DRIFT_MS = 100


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000)
    parser.add_argument("--documents", type=int, default=48)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    return parser.parse_args()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        sys.exit(f"needs a PostgreSQL DATABASE_URL, got {parts.scheme!r}")
    return urlunsplit(parts._replace(scheme="postgres", path="/" + name))


def recreate_database(maintenance_url: str, name: str, *, create: bool) -> None:
    import psycopg
    from psycopg import sql

    url = maintenance_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)


def feature_names() -> list[tuple[str, str]]:
    return [(f"x{i:02d}", "numeric") for i in range(NUMERIC)] + [
        (f"c{i}", "categorical") for i in range(CATEGORICAL)
    ]


def create_world():
    """A team, a data scientist with a token, a 50-feature model and its
    reference. Returns (user, model name, version number, token)."""
    import json

    import numpy as np
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from kernel.models import Team
    from models_registry import services as registry
    from monitoring.services.ingestion import reference_upload
    from portal.services import api_token_create

    group = Group.objects.create(name="team:bench")
    team = Team.objects.create(name="Bench", slug="bench", group=group)
    user = get_user_model().objects.create_user(username="bench", password=None)
    user.groups.add(Group.objects.get(name="data_scientist"), group)
    model = registry.model_create(
        actor=user,
        name="bench-profiles",
        title="Bench",
        team=team,
        domain="credit",
        risk_class="medium",
        regulatory_tier="limited",
        serving_mode="batch",
        fairness_attributes=["segment"],
    )
    version, _ = registry.model_version_register(
        actor=user,
        model=model,
        artifact={
            "uri": "s3://bench/model.onnx",
            "sha256": "c" * 64,
            "size_bytes": 1,
            "format": "onnx",
            "feature_spec": [
                {"name": name, "type": kind} for name, kind in feature_names()
            ],
        },
    )
    rng = np.random.default_rng(7)
    reference = {
        name: rng.normal(0, 1, 20_000).round(4).tolist()
        if kind == "numeric"
        else rng.choice([f"v{j}" for j in range(30)], 20_000).tolist()
        for name, kind in feature_names()
    }
    reference["score"] = rng.random(20_000).round(4).tolist()
    reference_upload(
        actor=user,
        model_name=model.name,
        version_number=version.version,
        body=json.dumps({"columns": reference}).encode(),
        content_type="application/json",
    )
    _, token = api_token_create(user=user, name="bench")
    return user, model.name, version.version, token


def hour_table(rows: int, start: datetime, seed: int):
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    columns = {
        "timestamp": pa.array(
            [start + timedelta(seconds=int(s)) for s in rng.integers(0, 3600, rows)]
            if rows <= 10_000
            else np.datetime64(start.replace(tzinfo=None), "us")
            + rng.integers(0, 3_600_000_000, rows).astype("timedelta64[us]"),
            pa.timestamp("us", tz="UTC"),
        )
    }
    for name, kind in feature_names():
        if kind == "numeric":
            columns[name] = rng.normal(0.1, 1.1, rows)
        else:
            columns[name] = pa.array(rng.choice([f"v{j}" for j in range(35)], rows))
    columns["score"] = rng.random(rows)
    columns["latency_ms"] = rng.gamma(2.0, 20.0, rows)
    columns["label"] = rng.integers(0, 2, rows)
    columns["segment"] = pa.array(rng.choice(["a", "b", "c"], rows))
    return pa.table(columns)


def documents(spec, rows: int, count: int, first_hour: datetime, seed: int):
    """``count`` one-window documents of ``rows`` rows each (profiled once and
    re-dated: the profiling is the client's cost, not the portal's)."""
    from gatehouse_client.profile import WindowProfile, profiles_document

    (window,) = profile_table_once(spec, rows, first_hour, seed)
    result = []
    for index in range(count):
        hour = first_hour - timedelta(hours=index)
        moved = WindowProfile(**{**window.__dict__, "hour": window.hour - index})
        result.append(
            profiles_document(
                [moved], batch_id=f"bench-{seed}-{rows}-{index}", spec=spec
            )
        )
        assert moved.start == hour
    return result


def profile_table_once(spec, rows, hour, seed):
    from gatehouse_client.profile import profile_table

    return profile_table(hour_table(rows, hour, seed), spec)


def main() -> None:
    args = parse_args()
    maintenance = os.environ.get("DATABASE_URL")
    if not maintenance:
        sys.exit("Set DATABASE_URL to a PostgreSQL server (any database on it).")
    bench_url = with_database(maintenance, BENCH_DB)
    recreate_database(maintenance, BENCH_DB, create=True)
    try:
        setup_django(bench_url)
        run(args)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            recreate_database(maintenance, BENCH_DB, create=False)


def run(args) -> None:
    from django.test import Client
    from gatehouse_client.profile import (
        BINARY_MEDIA_TYPE,
        encode_binary,
        encode_json,
    )

    from monitoring.drift import evaluate_window
    from monitoring.models import FeatureProfile, MonitoringBatch, MonitoringWindow
    from monitoring.services.aggregation import (
        batch_apply,
        load_profile,
        reference_state_of,
    )
    from monitoring.services.checks import window_check
    from monitoring.services.profiles import profile_spec_get

    user, model, version, token = create_world()
    spec = profile_spec_get(
        actor=user, model_name=model, environment_name="production", version=version
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    url = f"/api/v1/monitoring/models/{model}/environments/production/profiles"
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")

    print(
        f"{NUMERIC + CATEGORICAL} features, one window per document; "
        f"{args.documents} documents per run"
    )
    # Warm up (imports, caches, the first connection) on a window of its own.
    (warm,) = documents(spec, args.rows, 1, now - timedelta(hours=1), 99)
    client.generic("POST", url, encode_json(warm), content_type="application/json")
    for batch_id in MonitoringBatch.objects.values_list("pk", flat=True):
        batch_apply(batch_id=batch_id)
    window_check(window_id=MonitoringWindow.objects.get().pk, force=True)

    small = args.rows
    large = args.rows * 100
    checked = {}
    for label, rows, encode, media, offset in (
        ("JSON", small, encode_json, "application/json", 0),
        ("binary", small, encode_binary, BINARY_MEDIA_TYPE, args.documents),
        ("binary", large, encode_binary, BINARY_MEDIA_TYPE, 2 * args.documents),
    ):
        docs = documents(
            spec, rows, args.documents, now - timedelta(hours=2 + offset), offset
        )
        bodies = [encode(doc) for doc in docs]
        size = statistics.median(len(body) for body in bodies)
        started, started_cpu = time.perf_counter(), time.process_time()
        for body in bodies:
            response = client.generic("POST", url, body, content_type=media)
            assert response.status_code == 202, response.content[:500]
        received = time.perf_counter() - started
        received_cpu = time.process_time() - started_cpu
        ids = list(
            MonitoringBatch.objects.filter(status="pending")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        started, started_cpu = time.perf_counter(), time.process_time()
        for batch_id in ids:
            batch_apply(batch_id=batch_id)
        applied = time.perf_counter() - started
        applied_cpu = time.process_time() - started_cpu
        count = len(bodies)
        print(
            f"  {label:6} {rows:>9,} rows/window, {size / 1024:6.1f} KiB/document: "
            f"received {count / received:6.1f}/s ({count * rows / received:,.0f} "
            f"rows/s; {received_cpu / count * 1000:.0f} ms CPU each), "
            f"applied {len(ids) / applied:6.1f}/s "
            f"({applied_cpu / len(ids) * 1000:.0f} ms CPU each)"
        )
        checked[rows] = MonitoringWindow.objects.get(
            start=now - timedelta(hours=2 + offset)
        )

    reference = reference_state_of(checked[small].reference).features
    print(f"checks of one window fed by profiles (median of {args.runs}):")
    for rows, window in sorted(checked.items()):
        timings, drift, cpu = [], [], []
        for _ in range(args.runs):
            started = time.perf_counter()
            window_check(window_id=window.pk, force=True)
            timings.append(time.perf_counter() - started)
            started, started_cpu = time.perf_counter(), time.process_time()
            stored = {
                row.feature: load_profile(row.profile, reference[row.feature])
                for row in FeatureProfile.objects.filter(window=window)
            }
            evaluate_window(reference, stored)
            drift.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        every = statistics.median(timings) * 1000
        alone = statistics.median(drift) * 1000
        alone_cpu = statistics.median(cpu) * 1000
        print(
            f"  {rows:>9,} rows: every check {every:6.1f} ms, drift alone "
            f"(load + evaluate) {alone:6.1f} ms wall, {alone_cpu:6.1f} ms CPU "
            f"(target < {TARGET_DRIFT_MS} ms)"
        )


if __name__ == "__main__":
    main()
