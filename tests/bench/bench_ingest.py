"""Benchmark monitoring ingestion end to end: HTTP API, storage, aggregation.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse DEBUG=1 \\
        .venv/bin/python tests/bench/bench_ingest.py

It never touches the database named in DATABASE_URL: it drops and recreates a
scratch database ``gatehouse_bench_ingest`` on the same server, starts its own
redis-server, a gunicorn serving the portal and two Celery worker processes
(``--concurrency=1`` each), and drops the database again at the end.

The workload: ``--records`` prediction records (default 1,000,000) with 20
features (18 numeric, 2 categorical), a score, a latency and one segment
attribute, split into batches of ``--batch-rows`` (default 100,000) that each
cover one hour. Every batch is POSTed to
``/api/v1/monitoring/models/<name>/environments/production/predictions`` by
``--clients`` concurrent clients (default 2), first as Parquet, then (new batch
ids, same data) as JSON in the column layout. Bodies are encoded before the
clock starts: the figures are the portal's, not the client's.

Printed per format: acknowledged records/s (all POSTs answered 202), and end
to end records/s (first POST sent to last batch applied by the workers: parsed,
validated, stored, profiled into 20 feature profiles per window, label-join
index rows written, review items sampled). Target: 50,000 records/s end to end
for Parquet.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "gatehouse_bench_ingest"
TARGET_PARQUET_RECORDS_PER_S = 50_000
PREDICTIONS = "/api/v1/monitoring/models/{model}/environments/production/predictions"
NUMERIC = 18
CATEGORICAL = 2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument(
        "--formats", default="parquet,json", help="comma-separated: parquet,json"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    return parser.parse_args()


# --- Scratch database and services ------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        sys.exit(f"bench_ingest needs a PostgreSQL DATABASE_URL, got {parts.scheme!r}")
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


def setup_django(bench_url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def service_env(bench_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": bench_url,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY")
        or "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_MANIFEST": "0",
        "LOG_LEVEL": "WARNING",
    }


def start_web(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        cwd=REPO_ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    sys.exit("gunicorn did not start")


# --- The model and the data --------------------------------------------------------


def feature_names() -> list[tuple[str, str]]:
    return [(f"x{i:02d}", "numeric") for i in range(NUMERIC)] + [
        (f"c{i}", "categorical") for i in range(CATEGORICAL)
    ]


def create_world():
    """A team, a data scientist with a token, a model with a 20-feature spec and
    a reference sample of 100,000 rows. Returns (model name, version, token)."""
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
        name="bench-model",
        title="Bench",
        team=team,
        domain="credit",
        risk_class="medium",
        regulatory_tier="limited",
        serving_mode="batch",
        low_confidence_threshold=0.05,
        fairness_attributes=["segment"],
    )
    version, _ = registry.model_version_register(
        actor=user,
        model=model,
        artifact={
            "uri": "s3://bench/model.onnx",
            "sha256": "b" * 64,
            "size_bytes": 1,
            "format": "onnx",
            "feature_spec": [
                {"name": name, "type": kind} for name, kind in feature_names()
            ],
        },
    )
    rng = np.random.default_rng(7)
    reference = {
        name: rng.normal(0, 1, 100_000).round(4).tolist()
        if kind == "numeric"
        else rng.choice(["a", "b", "c", "d"], 100_000).tolist()
        for name, kind in feature_names()
    }
    reference["score"] = rng.random(100_000).round(4).tolist()
    reference_upload(
        actor=user,
        model_name=model.name,
        version_number=version.version,
        body=json.dumps({"columns": reference}).encode(),
        content_type="application/json",
    )
    _, token = api_token_create(user=user, name="bench")
    return model.name, version.version, token


def make_batches(records: int, batch_rows: int):
    """Columns of each batch (one hour each, ending two hours ago)."""
    import numpy as np

    rng = np.random.default_rng(11)
    count = (records + batch_rows - 1) // batch_rows
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=2
    )
    batches = []
    for index in range(count):
        rows = min(batch_rows, records - index * batch_rows)
        start = end - timedelta(hours=count - index)
        micros = int(start.timestamp() * 1e6) + np.sort(
            rng.integers(0, 3_600_000_000, rows)
        )
        columns = {
            "timestamp": micros,
            "prediction_id": np.char.add(f"b{index}-", np.arange(rows).astype(str)),
        }
        for name, kind in feature_names():
            if kind == "numeric":
                columns[name] = rng.normal(0.1 * (index % 3), 1, rows)
            else:
                columns[name] = rng.choice(["a", "b", "c", "d", "e"], rows)
        columns["score"] = rng.random(rows)
        columns["latency_ms"] = rng.gamma(2.0, 15.0, rows)
        columns["segment"] = rng.choice(["f", "m"], rows)
        batches.append(columns)
    return batches


def parquet_body(columns) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {
        name: pa.array(values).cast(pa.timestamp("us", tz="UTC"))
        if name == "timestamp"
        else pa.array(values)
        for name, values in columns.items()
    }
    buffer = io.BytesIO()
    pq.write_table(pa.table(arrays), buffer, compression="zstd")
    return buffer.getvalue()


def json_body(batch_id: str, version: int, columns) -> bytes:
    import numpy as np

    document = {}
    for name, values in columns.items():
        if name == "timestamp":
            document[name] = (values / 1e6).round(6).tolist()
        elif values.dtype.kind == "f":
            document[name] = np.round(values, 6).tolist()
        else:
            document[name] = values.tolist()
    return json.dumps(
        {"batch_id": batch_id, "version": version, "columns": document}
    ).encode()


# --- Running ------------------------------------------------------------------------


def post(url: str, body: bytes, content_type: str, token: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 (http URLs built here)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        if response.status not in (200, 202):
            raise RuntimeError(f"HTTP {response.status}")
        return json.loads(response.read())


def push_all(jobs, clients: int) -> list[dict]:
    results: list[dict] = [None] * len(jobs)
    queue = list(enumerate(jobs))
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                if not queue:
                    return
                index, job = queue.pop(0)
            results[index] = post(*job)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def wait_applied(ids: list[int], timeout: float = 1800) -> float:
    from django.db import connection

    from monitoring.models import MonitoringBatch

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = dict(
            MonitoringBatch.objects.filter(pk__in=ids).values_list("pk", "status")
        )
        failed = [pk for pk, status in statuses.items() if status == "failed"]
        if failed:
            sys.exit(f"batches failed: {failed}")
        if all(status == "applied" for status in statuses.values()):
            return time.monotonic()
        connection.close()
        time.sleep(0.2)
    sys.exit("timed out waiting for the workers")


def warm_up(base_url, model, version, token, web_workers) -> None:
    """Small batches first, so that every web and worker process has imported
    everything before the clock starts."""
    path = f"{base_url}{PREDICTIONS.format(model=model)}"
    small = make_batches(2_000, 500)
    jobs = [
        (
            f"{path}?batch_id=warm-{index}&version={version}",
            parquet_body(columns),
            "application/vnd.apache.parquet",
            token,
        )
        for index, columns in enumerate(small)
    ]
    answers = push_all(jobs, max(web_workers, 2))
    wait_applied([answer["id"] for answer in answers])


def run_format(fmt, batches, base_url, model, version, token, clients) -> dict:
    from monitoring.models import MonitoringWindow

    path = f"{base_url}{PREDICTIONS.format(model=model)}"
    encode_started = time.perf_counter()
    jobs = []
    for index, columns in enumerate(batches):
        batch_id = f"{fmt}-{index}"
        if fmt == "parquet":
            jobs.append(
                (
                    f"{path}?batch_id={batch_id}&version={version}",
                    parquet_body(columns),
                    "application/vnd.apache.parquet",
                    token,
                )
            )
        else:
            jobs.append(
                (path, json_body(batch_id, version, columns), "application/json", token)
            )
    encode_seconds = time.perf_counter() - encode_started
    records = sum(len(columns["timestamp"]) for columns in batches)
    body_bytes = sum(len(job[1]) for job in jobs)
    before = sum(MonitoringWindow.objects.values_list("prediction_count", flat=True))
    started = time.monotonic()
    answers = push_all(jobs, clients)
    acknowledged = time.monotonic()
    finished = wait_applied([answer["id"] for answer in answers])
    after = sum(MonitoringWindow.objects.values_list("prediction_count", flat=True))
    if after - before != records:
        sys.exit(f"counted {after - before} records, sent {records}")
    return {
        "format": fmt,
        "records": records,
        "batches": len(batches),
        "body_mb": body_bytes / 2**20,
        "encode_s": encode_seconds,
        "ack_s": acknowledged - started,
        "total_s": finished - started,
    }


def main() -> None:
    args = parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the scratch db goes there)")
    sys.path.insert(0, str(REPO_ROOT))
    from tests.services import CeleryWorker, RedisServer, free_port

    maintenance = with_database(base, "postgres")
    bench_url = with_database(base, BENCH_DB)
    recreate_database(maintenance, BENCH_DB, create=True)
    redis = RedisServer()
    processes = []
    try:
        setup_django(bench_url, redis.url)
        print(f"preparing {args.records:,} records x 20 features ...", flush=True)
        model, version, token = create_world()
        batches = make_batches(args.records, args.batch_rows)
        env = service_env(bench_url, redis.url)
        port = free_port()
        web = start_web(env, port, args.web_workers)
        processes.append(web)
        os.environ.update({"DATABASE_URL": bench_url, "LOG_LEVEL": "WARNING"})
        workers = [CeleryWorker(redis_url=redis.url, extra_env=env) for _ in range(2)]
        warm_up(f"http://127.0.0.1:{port}", model, version, token, args.web_workers)
        results = []
        for fmt in args.formats.split(","):
            result = run_format(
                fmt,
                batches,
                f"http://127.0.0.1:{port}",
                model,
                version,
                token,
                args.clients,
            )
            results.append(result)
            print(
                f"{fmt:8s} {result['records']:>9,} records in {result['batches']} "
                f"batches, {result['body_mb']:.1f} MB of bodies "
                f"(client encoding {result['encode_s']:.1f} s, not counted)\n"
                f"         acknowledged (202): {result['ack_s']:6.1f} s = "
                f"{result['records'] / result['ack_s']:>9,.0f} records/s\n"
                f"         end to end (applied): {result['total_s']:6.1f} s = "
                f"{result['records'] / result['total_s']:>9,.0f} records/s",
                flush=True,
            )
        parquet = next((r for r in results if r["format"] == "parquet"), None)
        if parquet:
            rate = parquet["records"] / parquet["total_s"]
            verdict = "meets" if rate >= TARGET_PARQUET_RECORDS_PER_S else "misses"
            print(
                f"Parquet end to end {rate:,.0f} records/s {verdict} the target of "
                f"{TARGET_PARQUET_RECORDS_PER_S:,} records/s "
                f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})."
            )
        for worker in workers:
            worker.stop()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        redis.stop()
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(maintenance, BENCH_DB, create=False)


if __name__ == "__main__":
    main()
