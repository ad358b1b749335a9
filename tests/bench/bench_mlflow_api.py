"""Registry reads through Gatehouse's MLflow endpoints and through MLflow's own
server, side by side, at concurrency 16.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse \\
        .venv/bin/python tests/bench/bench_mlflow_api.py

It never touches the database named in DATABASE_URL: on the same PostgreSQL
server it (re)creates two scratch databases, ``gatehouse_bench_mlflow`` for the
portal and ``gatehouse_bench_mlflow_store`` for MLflow's backend store, fills
both with the same registry (models with versions and tags) and drops them at
the end. Gatehouse runs under gunicorn (gthread, 4 threads per worker, no
keep-alive; --threads 1 gives docker/'s sync workers) and MLflow under ``mlflow
server`` (uvicorn), each with the same number of worker processes on a free
loopback port. Gatehouse requests carry a bearer API token and every answer is
limited to what that data scientist may see; MLflow's server has no
authentication at all.

For each read (get model, get version, search models, search versions) and
each server: a short warm-up, then 16 threads, each with its own HTTP session,
send requests for a fixed time. Printed: requests per second, p50 and p99
latency, the server's CPU time per request (all processes of its process group:
a figure that other load on the machine disturbs much less than throughput), and
errors. Target: Gatehouse at least as fast as MLflow on every read.
"""

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
PORTAL_DB = "gatehouse_bench_mlflow"
STORE_DB = "gatehouse_bench_mlflow_store"
STARTUP_SECONDS = 240
WARM_UP_SECONDS = 3


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=40)
    parser.add_argument("--versions", type=int, default=5, help="per model")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10, help="per measurement")
    parser.add_argument("--workers", type=int, default=4, help="per server")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="gunicorn threads per worker (gthread); 1 means sync workers",
    )
    return parser.parse_args()


# --- Databases and processes ------------------------------------------------------


def with_database(url: str, name: str, scheme: str = "postgresql") -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        sys.exit(f"bench_mlflow_api needs a PostgreSQL DATABASE_URL, not {url!r}")
    return urlunsplit(parts._replace(scheme=scheme, path="/" + name))


def recreate(maintenance_url: str, name: str, *, create: bool) -> None:
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(
        command,
        stdout=handle,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO_ROOT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def group_cpu_seconds(group: int) -> float:
    """CPU time (user + system) of every process in a process group (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, ..., utime (12th), stime (13th).
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    import requests

    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{url} exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    tail = log.read_text()[-3000:]
    sys.exit(f"{url} did not come up in {STARTUP_SECONDS} s:\n{tail}")


# --- Filling both registries --------------------------------------------------------


def fill_gatehouse(models: int, versions: int) -> str:
    """Migrate the portal's scratch database, register the registry through the
    services; return the data scientist's API token."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from kernel.models import Team
    from mlflow_bridge import services
    from portal.services import api_token_create

    call_command("migrate", verbosity=0)
    group = Group.objects.create(name="team:bench")
    team = Team.objects.create(name="Bench", slug="bench", group=group)
    person = get_user_model().objects.create_user("bench-scientist")
    person.groups.add(Group.objects.get(name="data_scientist"), team.group)
    for index in range(models):
        model = services.registered_model_create(
            actor=person,
            name=f"model-{index:03d}",
            description="Benchmark model.",
            tags={"owner": "bench", "index": str(index)},
        )
        for number in range(1, versions + 1):
            services.model_version_create(
                actor=person,
                name=model.name,
                source=f"s3://bench/model-{index:03d}/{number}",
                tags={
                    "gatehouse.sha256": f"{index:032x}{number:032x}",
                    "gatehouse.size_bytes": "1000",
                    "quality": "gold",
                },
            )
    return api_token_create(user=person, name="bench")[1]


def fill_mlflow(url: str, models: int, versions: int) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=url, registry_uri=url)
    for index in range(models):
        name = f"model-{index:03d}"
        client.create_registered_model(
            name,
            tags={"owner": "bench", "index": str(index)},
            description="Benchmark model.",
        )
        for number in range(1, versions + 1):
            client.create_model_version(
                name,
                f"s3://bench/{name}/{number}",
                tags={"quality": "gold"},
                await_creation_for=0,
            )


# --- Load ---------------------------------------------------------------------------


def reads(models: int, versions: int) -> list[tuple[str, str, Callable]]:
    """(label, path, params for the n-th request)."""
    prefix = "/api/2.0/mlflow/"
    return [
        (
            "get model",
            prefix + "registered-models/get",
            lambda n: {"name": f"model-{n % models:03d}"},
        ),
        (
            "get version",
            prefix + "model-versions/get",
            lambda n: {
                "name": f"model-{n % models:03d}",
                "version": str(n % versions + 1),
            },
        ),
        (
            "search models",
            prefix + "registered-models/search",
            lambda n: {"filter": f"name LIKE 'model-{n % 4}%'", "max_results": "10"},
        ),
        (
            "search versions",
            prefix + "model-versions/search",
            lambda n: {"filter": f"name = 'model-{n % models:03d}'"},
        ),
    ]


def measure(
    base: str, path: str, params, headers, concurrency: int, seconds: float, group: int
):
    import requests

    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    counter = iter(range(10**9))
    deadline = [0.0]

    def worker():
        nonlocal failures
        session = requests.Session()
        session.headers.update(headers)
        mine, bad = [], 0
        while time.perf_counter() < deadline[0]:
            number = next(counter)
            started = time.perf_counter()
            try:
                response = session.get(base + path, params=params(number), timeout=30)
                ok = response.status_code == 200
            except requests.RequestException:
                ok = False
            elapsed = time.perf_counter() - started
            if ok:
                mine.append(elapsed)
            else:
                bad += 1
        with lock:
            latencies.extend(mine)
            failures += bad

    # Warm-up, not counted.
    deadline[0] = time.perf_counter() + WARM_UP_SECONDS
    warm = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in warm:
        thread.start()
    for thread in warm:
        thread.join()
    latencies.clear()
    failures = 0
    cpu_before = group_cpu_seconds(group)
    started = time.perf_counter()
    deadline[0] = started + seconds
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    duration = time.perf_counter() - started
    cpu = group_cpu_seconds(group) - cpu_before
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    return {
        "rps": len(latencies) / duration,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": p99 * 1000,
        "errors": failures,
        "requests": len(latencies),
        "cpu_ms": cpu * 1000 / max(len(latencies), 1),
    }


def main() -> int:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    maintenance = with_database(url, "postgres")
    portal_url = with_database(url, PORTAL_DB)
    store_url = with_database(url, STORE_DB, scheme="postgresql+psycopg")
    for name in (PORTAL_DB, STORE_DB):
        recreate(maintenance, name, create=True)
    logs = REPO_ROOT / "var" / "bench-mlflow"
    logs.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    try:
        env = {
            **os.environ,
            "DATABASE_URL": portal_url,
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-" + "k" * 50),
            "SECURE_SSL_REDIRECT": "0",
            "STATIC_MANIFEST": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }
        env.pop("REDIS_URL", None)
        for key in ("DATABASE_URL", "DEBUG", "SECRET_KEY"):
            os.environ[key] = env[key]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        sys.path.insert(0, str(REPO_ROOT))
        import django

        django.setup()
        print(f"filling Gatehouse: {args.models} models x {args.versions} versions")
        token = fill_gatehouse(args.models, args.versions)

        bin_dir = Path(sys.executable).parent
        gatehouse_port, mlflow_port = free_port(), free_port()
        gatehouse = f"http://127.0.0.1:{gatehouse_port}"
        mlflow = f"http://127.0.0.1:{mlflow_port}"
        processes.append(
            start(
                [
                    str(bin_dir / "gunicorn"),
                    "portal.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{gatehouse_port}",
                    "--workers",
                    str(args.workers),
                    *(
                        ["--worker-class", "gthread", "--threads", str(args.threads)]
                        if args.threads > 1
                        else []
                    ),
                    # A kept-alive connection stays with the worker that accepted
                    # it: 16 clients over 4 workers would load them unevenly.
                    "--keep-alive",
                    "0",
                ],
                env,
                logs / "gunicorn.log",
            )
        )
        processes.append(
            start(
                [
                    str(bin_dir / "mlflow"),
                    "server",
                    "--backend-store-uri",
                    store_url,
                    "--default-artifact-root",
                    f"file://{logs}/artifacts",
                    "--no-serve-artifacts",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(mlflow_port),
                    "--workers",
                    str(args.workers),
                ],
                env,
                logs / "server.log",
            )
        )
        # Any answer below 500 means the server is up (Gatehouse says 401 here).
        probe = "/api/2.0/mlflow/registered-models/search"
        wait_until_up(gatehouse + probe, processes[0], logs / "gunicorn.log")
        wait_until_up(mlflow + probe, processes[1], logs / "server.log")
        print("filling MLflow's server through its client")
        fill_mlflow(mlflow, args.models, args.versions)
        # Fresh planner statistics on both sides before measuring.
        import psycopg

        for database in (portal_url, with_database(url, STORE_DB)):
            with psycopg.connect(database, autocommit=True) as conn:
                conn.execute("ANALYZE")

        rows = []
        servers = [
            (
                "Gatehouse",
                gatehouse,
                {"Authorization": f"Bearer {token}"},
                processes[0],
            ),
            ("MLflow", mlflow, {}, processes[1]),
        ]
        for index, (label, path, params) in enumerate(
            reads(args.models, args.versions)
        ):
            # Alternate which server goes first, so neither always meets a
            # machine still busy with the other.
            for server, base, headers, process in servers[
                :: 1 if index % 2 == 0 else -1
            ]:
                result = measure(
                    base,
                    path,
                    params,
                    headers,
                    args.concurrency,
                    args.seconds,
                    process.pid,
                )
                rows.append((label, server, result))
                print(
                    f"  {label:<16} {server:<9} {result['rps']:8.1f} req/s "
                    f"p99 {result['p99']:7.1f} ms",
                    flush=True,
                )
        print()
        print(
            f"concurrency {args.concurrency}, {args.seconds:g} s per row, "
            f"{args.workers} workers per server (gunicorn: {args.threads} "
            f"thread(s) each), {os.cpu_count()} CPUs"
        )
        header = (
            f"{'read':<16} {'server':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'CPU ms/req':>10} {'errors':>7}"
        )
        print(header)
        print("-" * len(header))
        for label, server, result in rows:
            print(
                f"{label:<16} {server:<10} {result['rps']:8.1f} {result['p50']:8.1f} "
                f"{result['p99']:8.1f} {result['cpu_ms']:10.1f} {result['errors']:7d}"
            )
        order = {label: index for index, (label, _, _) in enumerate(reads(1, 1))}
        rows.sort(key=lambda row: (order[row[0]], row[1]))
        rps = {(label, server): result["rps"] for label, server, result in rows}
        slower = [
            label
            for label, server in rps
            if server == "Gatehouse" and rps[label, server] < rps[label, "MLflow"]
        ]
        print()
        print(
            "Gatehouse at least as fast on every read."
            if not slower
            else f"Gatehouse slower on: {', '.join(slower)}"
        )
        return 0
    finally:
        for process in processes:
            stop(process)
        from django.db import connections

        connections.close_all()
        for name in (PORTAL_DB, STORE_DB):
            recreate(maintenance, name, create=False)


if __name__ == "__main__":
    sys.exit(main())
