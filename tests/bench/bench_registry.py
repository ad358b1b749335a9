"""Benchmark the registry API under gunicorn: version detail and version list.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse \\
        .venv/bin/python tests/bench/bench_registry.py

It never touches the database named in DATABASE_URL: it drops and recreates a
scratch database ``gatehouse_bench_registry`` on the same server, migrates it,
fills it, measures, and drops it again at the end. It is a script, not a pytest
test.

What it does:

* registers 200 models x 10 versions through the services (each model with a
  dataset snapshot and a training run; every version with its artifact, card
  and audit event), as one data scientist of one team;
* starts gunicorn on a free loopback port against the scratch database, in
  production settings (DEBUG=0, no SSL redirect), gthread workers by default;
* drives ``GET /api/v1/versions/{id}/`` (random ids) and ``GET /api/v1/versions/``
  (random pages of 50) with that data scientist's API token, 16 keep-alive
  connections (threads with http.client) for 20 s each after a short warm-up,
  and prints requests/s, p50, p99 and the worst latency;
* counts the SQL queries of one list page and one detail, in-process
  (CaptureQueriesContext through Django's test client, same token).

Targets from the issue: p99 under 50 ms for the detail; list pages at most 8
queries. A slow figure is reported, not fatal; errors or a broken target on
query counts exit 1.
"""

import argparse
import http.client
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "gatehouse_bench_registry"
HOST = "127.0.0.1"

TARGET_DETAIL_P99_MS = 50.0
TARGET_LIST_QUERIES = 8


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--versions", type=int, default=10, help="per model")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds each")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds each")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile 200 in-process list requests and print the top functions",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=8,
        help="threads per worker (gthread); 1 means sync workers, no keep-alive",
    )
    return parser.parse_args()


# --- Scratch database -------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
        sys.exit(
            f"bench_registry needs a PostgreSQL DATABASE_URL, got {parts.scheme!r}"
        )
    return urlunsplit(parts._replace(scheme="postgresql", path="/" + name))


def recreate_database(maintenance_url: str, name: str, *, create: bool) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def production_environment(bench_url: str) -> dict[str, str]:
    """The environment of gunicorn and of this process: production settings."""
    environment = dict(os.environ)
    environment.pop("REDIS_URL", None)  # the endpoints measured enqueue nothing
    environment.update(
        {
            "DATABASE_URL": bench_url,
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "STATIC_MANIFEST": "0",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
    )
    return environment


def setup_django(environment: dict[str, str]) -> None:
    # Must happen before django.setup(): settings read the environment on import.
    os.environ.update(environment)
    os.environ.pop("REDIS_URL", None)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()

    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- Data -------------------------------------------------------------------------


def digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def fill(models: int, versions: int) -> tuple[str, list[int], float]:
    """Register the models and versions through the services; return the data
    scientist's API token, the version ids and the seconds it took."""
    from kernel import roles
    from models_registry import services
    from portal.services import (
        api_token_create,
        team_create,
        user_create,
        user_groups_set,
    )

    start = time.perf_counter()
    team = team_create(actor=None, name="Credit Risk")
    user = user_create(actor=None, username="dana", password=None)
    from django.contrib.auth.models import Group

    user_groups_set(
        actor=None,
        user=user,
        groups=list(
            Group.objects.filter(name__in=[roles.DATA_SCIENTIST, team.group.name])
        ),
    )
    _, token = api_token_create(user=user, name="bench")
    card = {
        "intended_use": "Score consumer loan applications.",
        "limitations": "Thin-file applicants.",
    }
    version_ids = []
    for m in range(models):
        model = services.model_create(
            actor=user,
            team=team,
            name=f"model-{m:04d}",
            title=f"Model {m}",
            domain="credit",
            risk_class=("low", "medium", "high", "critical")[m % 4],
            regulatory_tier="high",
            serving_mode="batch",
            offline_success_metrics=[
                {"metric": "auc", "direction": "higher", "threshold": 0.75}
            ],
            online_success_metrics=[
                {"kpi": "approval_rate", "direction": "higher", "threshold": 0.5}
            ],
            fairness_attributes=["sex"],
        )
        snapshot, _ = services.dataset_snapshot_create(
            actor=user,
            team=team,
            name=f"loans-{m}",
            uri=f"s3://datasets/loans-{m}.parquet",
            sha256=digest(f"snapshot-{m}"),
            row_count=100_000,
            schema=[
                {"name": "income", "type": "float"},
                {"name": "sex", "type": "str"},
            ],
        )
        run, _ = services.training_run_create(
            actor=user,
            model=model,
            external_run_id=f"run-{m}",
            code_repository="https://git.example.com/credit/scoring",
            code_commit=digest(f"commit-{m}")[:40],
            environment_lock_hash=digest(f"env-{m}"),
            parameters={"max_depth": 6, "learning_rate": 0.1},
            random_seed=42,
            inputs=[(snapshot, "train")],
        )
        for v in range(versions):
            version, _ = services.model_version_register(
                actor=user,
                model=model,
                artifact={
                    "uri": f"s3://models/model-{m}/{v}/model.pkl",
                    "sha256": digest(f"artifact-{m}-{v}"),
                    "size_bytes": 1_000_000 + v,
                    "format": "xgboost",
                    "preprocessing_code_version": f"prep-1.{v}.0",
                    "feature_spec": [
                        {"name": "income", "type": "numeric"},
                        {"name": "sex", "type": "categorical"},
                    ],
                },
                training_run=run,
                description=f"Version {v + 1} of model {m}.",
                tags={"stage": "candidate" if v % 2 else "shadow", "batch": str(m)},
                semantic_version=f"1.{v}.0",
                card=card,
            )
            version_ids.append(version.pk)
        if (m + 1) % 50 == 0:
            print(f"  filled {m + 1}/{models} models", flush=True)
    return token, version_ids, time.perf_counter() - start


# --- Queries, in process ----------------------------------------------------------


def query_counts(token: str, version_id: int) -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST=HOST)
    counts = {}
    for label, url in [
        ("version list page (50)", "/api/v1/versions/"),
        ("version list page, filtered", "/api/v1/versions/?tag=stage=shadow"),
        ("model list page (50)", "/api/v1/models/"),
        ("version detail", f"/api/v1/versions/{version_id}/"),
    ]:
        client.get(url)  # the token's last-use bookkeeping, at most once a minute
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        counts[label] = len(queries)
    return counts


def in_process_ms(token: str, urls: list[str], runs: int = 100) -> float:
    """Median milliseconds of one request through Django's test client: the
    server-side cost of a request without the network or any concurrency."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST=HOST)
    timings = []
    for index in range(runs):
        start = time.perf_counter()
        response = client.get(urls[index % len(urls)])
        timings.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise RuntimeError(
                f"{urls[index % len(urls)]} answered {response.status_code}"
            )
    return statistics.median(timings) * 1000


def profile_requests(
    token: str, urls: list[str], runs: int = 200, top: int = 30
) -> str:
    import cProfile
    import io
    import pstats

    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST=HOST)
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(runs):
        client.get(urls[index % len(urls)])
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# --- Gunicorn ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(environment, port: int, workers: int, threads: int):
    command = [
        str(REPO_ROOT / ".venv" / "bin" / "gunicorn"),
        "portal.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    command += ["--keep-alive", "30"]
    return subprocess.Popen(command, cwd=REPO_ROOT, env=environment)


def wait_until_serving(port: int, token: str, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", path, headers={"Authorization": f"Token {token}"})
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return
            raise RuntimeError(f"{path} answered {status}")
        except (ConnectionError, OSError):
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start serving in time")


def stop_gunicorn(process) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- Load -------------------------------------------------------------------------


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000


def drive(port: int, token: str, paths, *, concurrency: int, seconds: float):
    """``concurrency`` threads, one keep-alive connection each, sending GETs to
    a random path from ``paths()`` until the time is up."""
    result = LoadResult()
    lock = threading.Lock()
    headers = {"Authorization": f"Token {token}", "Connection": "keep-alive"}
    stop_at = time.perf_counter() + seconds
    barrier = threading.Barrier(concurrency + 1)

    def work(seed: int) -> None:
        chooser = random.Random(seed)
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        latencies, errors = [], []
        barrier.wait()
        while True:
            start = time.perf_counter()
            if start >= stop_at:
                break
            try:
                connection.request("GET", paths(chooser), headers=headers)
                response = connection.getresponse()
                response.read()
                elapsed = time.perf_counter() - start
                if response.status == 200:
                    latencies.append(elapsed)
                else:
                    errors.append(f"HTTP {response.status}")
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                errors.append(type(error).__name__)
                connection.close()
        connection.close()
        with lock:
            result.latencies.extend(latencies)
            result.errors.extend(errors)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


# --- Report -----------------------------------------------------------------------


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def main() -> int:
    args = parse_args()
    source_url = os.environ.get("DATABASE_URL", "")
    if not source_url:
        sys.exit("set DATABASE_URL to a PostgreSQL server, e.g. postgres://...")
    bench_url = with_database(source_url, BENCH_DB)
    maintenance_url = with_database(source_url, "postgres")

    recreate_database(maintenance_url, BENCH_DB, create=True)
    try:
        return run(args, bench_url)
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception as error:  # Django may not have got as far as setup.
            print(f"(closing Django connections: {error})", file=sys.stderr)
        recreate_database(maintenance_url, BENCH_DB, create=False)
        print(f"dropped scratch database {BENCH_DB}")


def run(args: argparse.Namespace, bench_url: str) -> int:
    environment = production_environment(bench_url)
    setup_django(environment)
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    kind = (
        f"{args.workers} gthread workers x {args.threads} threads"
        if args.threads > 1
        else f"{args.workers} sync workers"
    )
    print(f"machine: {cores} cores ({usable} usable by this process)")
    print("load average before: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    print(f"PostgreSQL {server_version()}, Python {sys.version.split()[0]}")
    print(f"scratch database: {BENCH_DB}")

    print(f"filling {args.models} models x {args.versions} versions through services…")
    token, version_ids, fill_s = fill(args.models, args.versions)
    print(f"filled {len(version_ids):,} versions in {fill_s:.1f} s")

    counts = query_counts(token, version_ids[len(version_ids) // 2])
    for label, count in counts.items():
        print(f"queries, {label}: {count}")
    rng = random.Random(1)
    detail_urls = [f"/api/v1/versions/{rng.choice(version_ids)}/" for _ in range(50)]
    pages = max(1, len(version_ids) // 50)
    list_urls = [
        f"/api/v1/versions/?offset={50 * rng.randrange(pages)}" for _ in range(50)
    ]
    detail_ms = in_process_ms(token, detail_urls)
    list_ms = in_process_ms(token, list_urls)
    print(
        f"in process, one request at a time: detail {detail_ms:.1f} ms, "
        f"list page {list_ms:.1f} ms (median)"
    )
    if args.profile:
        print(profile_requests(token, list_urls))
    from django.db import connections

    connections.close_all()

    port = free_port()
    print(f"gunicorn on {HOST}:{port}: {kind}, DEBUG=0, keep-alive 30 s")
    process = start_gunicorn(environment, port, args.workers, args.threads)
    results = {}
    try:
        wait_until_serving(port, token, f"/api/v1/versions/{version_ids[0]}/")
        pages = max(1, len(version_ids) // 50)
        endpoints = {
            "GET /api/v1/versions/{id}/": lambda rng: (
                f"/api/v1/versions/{rng.choice(version_ids)}/"
            ),
            "GET /api/v1/versions/?offset=…": lambda rng: (
                f"/api/v1/versions/?offset={50 * rng.randrange(pages)}"
            ),
        }
        for label, paths in endpoints.items():
            drive(port, token, paths, concurrency=args.concurrency, seconds=args.warmup)
            result = drive(
                port, token, paths, concurrency=args.concurrency, seconds=args.duration
            )
            results[label] = result
            print(
                f"{label}: {len(result.latencies):,} requests in {result.seconds:.1f} s"
                f" = {result.rate:,.0f} req/s; p50 {result.percentile(50):.1f} ms, "
                f"p99 {result.percentile(99):.1f} ms, max "
                f"{max(result.latencies) * 1000:.1f} ms, errors {len(result.errors)}"
                + (f" ({sorted(set(result.errors))})" if result.errors else "")
            )
    finally:
        stop_gunicorn(process)

    print("load average after: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    detail = results["GET /api/v1/versions/{id}/"]
    listing = results["GET /api/v1/versions/?offset=…"]
    list_queries = counts["version list page (50)"]
    rows = [
        ("server", kind, "", ""),
        ("concurrency", str(args.concurrency), "", ""),
        ("in-process detail ms", f"{detail_ms:.1f}", "", ""),
        ("in-process list ms", f"{list_ms:.1f}", "", ""),
        ("detail req/s", f"{detail.rate:,.0f}", "", ""),
        ("detail p50 ms", f"{detail.percentile(50):.1f}", "", ""),
        (
            "detail p99 ms",
            f"{detail.percentile(99):.1f}",
            f"< {TARGET_DETAIL_P99_MS:.0f}",
            "PASS" if detail.percentile(99) < TARGET_DETAIL_P99_MS else "FAIL",
        ),
        ("list req/s", f"{listing.rate:,.0f}", "", ""),
        ("list p50 ms", f"{listing.percentile(50):.1f}", "", ""),
        ("list p99 ms", f"{listing.percentile(99):.1f}", "", ""),
        (
            "list page queries",
            str(list_queries),
            f"<= {TARGET_LIST_QUERIES}",
            "PASS" if list_queries <= TARGET_LIST_QUERIES else "FAIL",
        ),
        ("errors", str(len(detail.errors) + len(listing.errors)), "0", ""),
    ]
    print_table(rows)
    broken = list_queries > TARGET_LIST_QUERIES or detail.errors or listing.errors
    return 1 if broken else 0


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("measure", "result", "target", "")
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(4)]
    line = "  ".join("-" * w for w in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for row in rows:
        print(
            "  ".join(
                [
                    row[0].ljust(widths[0]),
                    row[1].rjust(widths[1]),
                    row[2].rjust(widths[2]),
                    row[3],
                ]
            )
        )
    print(line)


if __name__ == "__main__":
    sys.exit(main())
