"""Benchmark one-click rollback and approvals through the HTTP API, end to end.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse DEBUG=1 \\
        .venv/bin/python tests/bench/bench_rollback.py

It never touches the database named in DATABASE_URL: it drops and recreates a
scratch database ``gatehouse_bench_rollback`` on the same server, migrates it,
serves it with gunicorn on a free loopback port (DEBUG off, as in production),
measures over real HTTP with token authentication, stops gunicorn and drops the
database. It is a script, not a pytest test.

Set-up (in-process, through the services): a low-risk model whose default staging
policy needs one approval, two approved versions deployed one after the other.

Measured:

* rollback: ``--rollbacks`` calls of ``POST /api/v1/deployments/{id}/rollback``,
  each timed from opening the connection to the last byte of the response; p50,
  p99 and max. Between two measured calls the rolled-back version is approved
  and deployed again in-process (not timed), so every rollback has a target.
  Target: under one second end to end.
* "what should be live": ``GET /api/v1/models/{name}/deployments/{env}`` (200)
  and the same with ``If-None-Match`` (304), p50 and p99.
* approvals decided per second: ``--approvals`` pending requests (one per
  version) are submitted in-process, then a reviewer's final approvals are
  sent through the API, each executing a deployment (and superseding the last).
  Once with one client in sequence, once with ``--clients`` concurrent clients.
"""

import argparse
import http.client
import json
import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "gatehouse_bench_rollback"
TARGET_ROLLBACK_MS = 1_000.0
MODEL = "ranker"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rollbacks", type=int, default=100, help="timed rollbacks")
    parser.add_argument(
        "--approvals", type=int, default=100, help="final approvals per run"
    )
    parser.add_argument(
        "--clients", type=int, default=4, help="concurrent clients (2nd approvals run)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--reads", type=int, default=200, help="timed live reads")
    return parser.parse_args()


# --- Scratch database -------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
        sys.exit(f"bench_rollback needs a PostgreSQL DATABASE_URL, not {url!r}")
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


def server_environment(bench_url: str) -> dict[str, str]:
    """What both this process and gunicorn run with: the scratch database, no
    broker (no task is enqueued: nobody has an email address and no webhook
    endpoint exists), emails kept in memory, plain HTTP on loopback."""
    environment = {
        key: value for key, value in os.environ.items() if key != "REDIS_URL"
    }
    environment.update(
        {
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "STATIC_MANIFEST": "0",
            "EMAIL_URL": "memorymail://",
            "LOG_LEVEL": "WARNING",
        }
    )
    return environment


def setup_django(environment: dict[str, str]) -> None:
    # Must happen before django.setup(): settings read the environment on import.
    os.environ.pop("REDIS_URL", None)
    os.environ.update(environment)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()

    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- Scenario (in-process, through the services) ----------------------------------


class Scene:
    def __init__(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from approvals.models import Environment
        from kernel.models import Team
        from models_registry import services as registry
        from portal.services import api_token_create
        from tests.models_registry import factories

        users = get_user_model().objects

        def person(username: str, *groups: Group):
            user = users.create_user(username=username, password=None)
            user.groups.add(*groups)
            return user

        def role(name: str) -> Group:
            return Group.objects.get(name=name)

        group = Group.objects.create(name="team:bench")
        team = Team.objects.create(name="Bench", slug="bench", group=group)
        self.admin = person("pat", role("platform_admin"))
        self.author = person("ava", role("data_scientist"), group)
        self.requester = person("dana", role("data_scientist"), group)
        self.reviewer = person("rey", role("reviewer"))
        self.model = factories.make_model(
            self.author,
            team,
            name=MODEL,
            risk_class="low",
            regulatory_tier="minimal",
            serving_mode="batch",
            latency_slo_ms=None,
        )
        registry.model_reviewer_assign(
            actor=self.admin, user=self.reviewer, model=self.model
        )
        self.staging = Environment.objects.get(name="staging")
        self.factories = factories
        self.requester_token = api_token_create(user=self.requester, name="bench")[1]
        self.reviewer_token = api_token_create(user=self.reviewer, name="bench")[1]

    def new_version(self):
        return self.factories.make_version(self.author, self.model)

    def submit(self, version):
        from approvals import services

        return services.deployment_request_submit(
            actor=self.requester,
            version=version,
            environment=self.staging,
            strategy="full",
            justification="Benchmark deployment.",
        )

    def deploy(self, version):
        from approvals import services

        request = self.submit(version)
        _, deployment = services.decision_record(
            actor=self.reviewer, request_id=request.pk, outcome="approve"
        )
        assert deployment is not None, "one approval executes on low staging"
        return deployment


# --- HTTP -------------------------------------------------------------------------


class Server:
    """gunicorn serving the portal on a free loopback port."""

    def __init__(self, environment: dict[str, str], workers: int):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = open(  # noqa: SIM115 (closed in stop())
            REPO_ROOT / "var" / "bench_rollback_gunicorn.log", "w"
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
            ],
            cwd=REPO_ROOT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, token: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}; see "
                    f"{self.log.name}"
                )
            try:
                status, _, _, _ = call(self.port, "GET", "/api/v1/me/", token)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def warm_up(self, token: str, requests: int) -> None:
        """Let every worker load the URL configuration, the API modules and its
        database connection before anything is timed (reads only)."""
        for path in (
            f"/api/v1/models/{MODEL}/deployments/staging",
            "/api/v1/deployments/",
            "/api/v1/requests/",
        ):
            for _ in range(requests):
                call(self.port, "GET", path, token)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def call(port, method, path, token, body=None, headers=None):
    """One request on a fresh connection; (status, json body, headers, seconds)."""
    payload = json.dumps(body).encode() if body is not None else None
    sent = {"Authorization": f"Token {token}", "Accept": "application/json"}
    if payload is not None:
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=payload, headers=sent)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    elapsed = time.perf_counter() - start
    data = json.loads(raw) if raw else None
    return response.status, data, dict(response.getheaders()), elapsed


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``fraction`` of
    the values at or below it."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def milliseconds(values: list[float]) -> dict[str, float]:
    ms = [value * 1000 for value in values]
    return {
        "p50": statistics.median(ms),
        "p99": percentile(ms, 0.99),
        "max": max(ms),
    }


# --- Workloads --------------------------------------------------------------------


def bench_rollbacks(scene: Scene, port: int, count: int) -> list[float]:
    """Each iteration: roll the live v2 back to v1 over HTTP (timed), then deploy
    v2 again in-process so that the next rollback has a target."""
    from approvals.models import Deployment

    v2 = Deployment.objects.get(status="active").version
    timings = []
    for _ in range(count):
        live = Deployment.objects.get(status="active", strategy="full")
        status, body, _, elapsed = call(
            port,
            "POST",
            f"/api/v1/deployments/{live.pk}/rollback",
            scene.requester_token,
            {"reason": "Benchmark: error rate doubled."},
        )
        if status != 200:
            raise RuntimeError(f"rollback answered {status}: {body}")
        if body["restored"] is None or body["rolled_back"]["status"] != "rolled_back":
            raise RuntimeError(f"unexpected rollback answer: {body}")
        timings.append(elapsed)
        scene.deploy(v2)
    return timings


def bench_live_reads(scene: Scene, port: int, count: int):
    path = f"/api/v1/models/{MODEL}/deployments/staging"
    full, cached = [], []
    etag = None
    for _ in range(count):
        status, _, headers, elapsed = call(port, "GET", path, scene.requester_token)
        assert status == 200, status
        etag = headers["ETag"]
        full.append(elapsed)
    for _ in range(count):
        status, _, _, elapsed = call(
            port, "GET", path, scene.requester_token, headers={"If-None-Match": etag}
        )
        assert status == 304, status
        cached.append(elapsed)
    return full, cached


def bench_approvals(scene: Scene, port: int, count: int, clients: int):
    """Submit ``count`` requests in-process, then approve them through the API
    with ``clients`` concurrent clients; return (seconds, per-call timings)."""
    from approvals.models import Deployment

    pending = [scene.submit(scene.new_version()).pk for _ in range(count)]
    deployments_before = Deployment.objects.count()
    timings: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    queue = list(pending)

    def client() -> None:
        while True:
            with lock:
                if not queue:
                    return
                request_id = queue.pop(0)
            status, body, _, elapsed = call(
                port,
                "POST",
                f"/api/v1/requests/{request_id}/decisions",
                scene.reviewer_token,
                {"outcome": "approve", "comment": "Benchmark approval."},
            )
            with lock:
                if status != 201 or not body["executed"]:
                    failures.append(f"{request_id}: {status} {body}")
                timings.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} approvals failed, e.g. {failures[0]}")
    made = Deployment.objects.count() - deployments_before
    if made != count:
        raise RuntimeError(f"{count} approvals made {made} deployments")
    return total, timings


# --- Report -----------------------------------------------------------------------


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("measure", "result", "target", "")
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(4)]
    line = "  ".join("-" * w for w in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for row in rows:
        cells = [
            row[0].ljust(widths[0]),
            row[1].rjust(widths[1]),
            row[2].rjust(widths[2]),
            row[3],
        ]
        print("  ".join(cells))
    print(line)


def main() -> int:
    args = parse_args()
    source_url = os.environ.get("DATABASE_URL", "")
    if not source_url:
        sys.exit("set DATABASE_URL to a PostgreSQL server, e.g. postgres://...")
    bench_url = with_database(source_url, BENCH_DB)
    maintenance_url = with_database(source_url, "postgres")

    recreate_database(maintenance_url, BENCH_DB, create=True)
    server = None
    try:
        environment = server_environment(bench_url)
        setup_django(environment)
        scene = Scene()
        scene.deploy(scene.new_version())
        scene.deploy(scene.new_version())
        (REPO_ROOT / "var").mkdir(exist_ok=True)
        server = Server(environment, args.workers)
        server.wait_ready(scene.requester_token)
        server.warm_up(scene.requester_token, 4 * args.workers)
        return run(args, scene, server)
    finally:
        if server is not None:
            server.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception as error:  # Django may not have got as far as setup.
            print(f"(closing Django connections: {error})", file=sys.stderr)
        recreate_database(maintenance_url, BENCH_DB, create=False)
        print(f"dropped scratch database {BENCH_DB}")


def run(args: argparse.Namespace, scene: Scene, server: Server) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {cores} cores ({usable} usable), load average {load}")
    print(f"PostgreSQL {postgres}, Python {sys.version.split()[0]}")
    print(
        f"gunicorn: {args.workers} sync workers on 127.0.0.1:{server.port}, "
        "DEBUG off, token auth, a new TCP connection per request, "
        f"{12 * args.workers} warm-up reads"
    )
    print()

    rollback = milliseconds(bench_rollbacks(scene, server.port, args.rollbacks))
    print(
        f"rollback x{args.rollbacks}: p50 {rollback['p50']:.1f} ms, "
        f"p99 {rollback['p99']:.1f} ms, max {rollback['max']:.1f} ms"
    )
    full, cached = bench_live_reads(scene, server.port, args.reads)
    live, not_modified = milliseconds(full), milliseconds(cached)
    print(
        f"live x{args.reads}: 200 p50 {live['p50']:.1f} ms p99 {live['p99']:.1f} ms;"
        f" 304 p50 {not_modified['p50']:.1f} ms p99 {not_modified['p99']:.1f} ms"
    )
    sequential_s, sequential = bench_approvals(scene, server.port, args.approvals, 1)
    sequential_rate = args.approvals / sequential_s
    one = milliseconds(sequential)
    print(
        f"approvals, 1 client: {args.approvals} in {sequential_s:.2f} s = "
        f"{sequential_rate:.1f}/s (p50 {one['p50']:.1f} ms, p99 {one['p99']:.1f} ms)"
    )
    concurrent_s, concurrent = bench_approvals(
        scene, server.port, args.approvals, args.clients
    )
    concurrent_rate = args.approvals / concurrent_s
    many = milliseconds(concurrent)
    print(
        f"approvals, {args.clients} clients: {args.approvals} in {concurrent_s:.2f} s"
        f" = {concurrent_rate:.1f}/s (p50 {many['p50']:.1f} ms, "
        f"p99 {many['p99']:.1f} ms)"
    )
    print()
    passed = rollback["p99"] < TARGET_ROLLBACK_MS
    print_table(
        [
            ("rollback p50 (ms)", f"{rollback['p50']:.1f}", "", ""),
            (
                "rollback p99 (ms)",
                f"{rollback['p99']:.1f}",
                f"< {TARGET_ROLLBACK_MS:,.0f}",
                "PASS" if passed else "FAIL",
            ),
            ("live p50 / p99 (ms)", f"{live['p50']:.1f} / {live['p99']:.1f}", "", ""),
            (
                "live 304 p50 / p99 (ms)",
                f"{not_modified['p50']:.1f} / {not_modified['p99']:.1f}",
                "",
                "",
            ),
            ("approvals/s, 1 client", f"{sequential_rate:.1f}", "", ""),
            (f"approvals/s, {args.clients} clients", f"{concurrent_rate:.1f}", "", ""),
        ]
    )
    # A slow figure is reported, not fatal.
    return 0


if __name__ == "__main__":
    sys.exit(main())
