"""Gatehouse's MLflow registry API against MLflow's own server, side by side:
reads, writes and Gatehouse's native /api/v1/ reads, alternating A/B.

Run from the repository root (one command; ``--quick`` for a short run)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse \\
        .venv/bin/python tests/bench/bench_mlflow_api.py [--quick]

It never touches the database named in DATABASE_URL: on the same PostgreSQL
server it (re)creates two scratch databases (``<prefix>`` for the portal and
``<prefix>_store`` for MLflow's backend store; ``--db-prefix``, default
``gatehouse_bench_mlflow``) and drops them at the end.

Both servers run under gunicorn with the same number of worker processes:
Gatehouse as ``docker/`` runs it (``portal.wsgi``, sync workers unless
``--worker-class gthread``), MLflow as ``mlflow server --gunicorn-opts`` runs it
(its Flask app, gunicorn's sync workers): MLflow's fastest server, faster than
its uvicorn default. Both registries are filled over HTTP with identical
request bodies (the ``gatehouse.`` tags Gatehouse needs are plain tags to
MLflow). Gatehouse requests carry a bearer API token and every answer is
limited to what that data scientist may see; MLflow has no authentication.

Load comes from ``wrk`` (``apt-get install wrk``), far lighter than a Python
client on a small machine. Each operation runs ``--rounds`` times on each
server, alternating which goes first: every read (and Gatehouse's native
reads) first, on the registries as filled, then the writes, which add
thousands of models a run. Printed per run: requests per second, p50
and p99 latency, CPU milliseconds per request of the server's processes and of
its PostgreSQL backends (much less disturbed by other load than throughput),
errors, and the 1-minute load average at the end of the run; then per
operation the ratio of each A/B pair and their median. Writes: create
registered model and create model version at 8 in flight, and one sequential
client (p50 compared). Native reads are Gatehouse only; their CPU per request
is compared with the MLflow-compatible read of the same object.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 240
PREFIX = "/api/2.0/mlflow/"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small and short")
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--versions", type=int, default=10, help="per model")
    parser.add_argument("--seconds", type=float, default=10, help="per run")
    parser.add_argument("--rounds", type=int, default=3, help="A/B pairs per op")
    parser.add_argument("--concurrency", type=int, default=16, help="reads")
    parser.add_argument("--write-concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="per server")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="gthread only")
    parser.add_argument(
        "--only",
        choices=("all", "reads", "writes", "native"),
        default="all",
    )
    parser.add_argument("--db-prefix", default="gatehouse_bench_mlflow")
    args = parser.parse_args()
    if args.quick:
        args.models, args.versions = min(args.models, 60), min(args.versions, 4)
        args.seconds, args.rounds = min(args.seconds, 4), min(args.rounds, 2)
    return args


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


def _processes():
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            yield stat.parent, fields
        except OSError:
            continue


def cpu_seconds(group: int, database: str) -> dict[int, float]:
    """CPU time (user + system) per process: every process in a process group
    (key 0: their sum), and each PostgreSQL backend connected to ``database``
    (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {0: 0.0}
    for directory, fields in _processes():
        # After the command: state, ppid, pgrp, ..., utime (12th), stime (13th).
        used = (int(fields[11]) + int(fields[12])) / ticks
        if int(fields[2]) == group:
            found[0] += used
            continue
        try:
            title = (directory / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
            found[int(directory.name)] = used
    return found


def cpu_used(before: dict, after: dict) -> tuple[float, float]:
    """Seconds used between two ``cpu_seconds``: the server's processes, and
    the backends alive at the end (a backend that ended is not counted)."""
    backends = sum(
        used - before.get(pid, 0.0) for pid, used in after.items() if pid != 0
    )
    return after[0] - before[0], backends


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


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


# --- Filling both registries with the same requests ---------------------------------


def model_name(index: int) -> str:
    return f"model-{index:03d}"


def create_model_body(name: str, index: int) -> dict:
    return {
        "name": name,
        "description": "Benchmark model.",
        "tags": [
            {"key": "owner", "value": "bench"},
            {"key": "index", "value": str(index)},
        ],
    }


def create_version_body(name: str, digest: str) -> dict:
    return {
        "name": name,
        "source": f"s3://bench/{name}/{digest[:16]}",
        "tags": [
            {"key": "gatehouse.sha256", "value": digest},
            {"key": "gatehouse.size_bytes", "value": "1000"},
            {"key": "quality", "value": "gold"},
        ],
    }


def fill(base: str, headers: dict, models: int, versions: int) -> None:
    """The same registry through each server's API (4 clients at a time)."""
    import requests

    def post(path, body):
        response = session.post(base + PREFIX + path, json=body, timeout=60)
        if response.status_code != 200:
            sys.exit(f"{base}: {path} answered {response.status_code}: "
                     f"{response.text[:500]}")  # fmt: skip

    session = requests.Session()
    session.headers.update(headers)

    def one_model(index: int) -> None:
        name = model_name(index)
        post("registered-models/create", create_model_body(name, index))
        for number in range(1, versions + 1):
            digest = f"{index:032x}{number:032x}"
            post("model-versions/create", create_version_body(name, digest))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one_model, range(models)))


def prepare_gatehouse(portal_url: str) -> str:
    """Migrate the portal's scratch database and create the data scientist;
    return their API token."""
    os.environ.update(
        DATABASE_URL=portal_url,
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-only-" + "k" * 50),
        DJANGO_SETTINGS_MODULE="portal.settings",
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connections

    from kernel.models import Team
    from portal.services import api_token_create

    call_command("migrate", verbosity=0)
    group = Group.objects.create(name="team:bench")
    team = Team.objects.create(name="Bench", slug="bench", group=group)
    person = get_user_model().objects.create_user("bench-scientist")
    person.groups.add(Group.objects.get(name="data_scientist"), team.group)
    token = api_token_create(user=person, name="bench")[1]
    connections.close_all()
    return token


# --- Load with wrk --------------------------------------------------------------------

_LUA = r"""
local counter = 0
tid = 0
run = 0
function init(args)
  run = tonumber(args[1])
end
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
%(headers)s
function request()
  counter = counter + 1
  local n = counter * 64 + tid
  %(body)s
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "status_errors": %%d, '
    .. '"socket_errors": %%d, "p50_us": %%d, "p99_us": %%d}\n',
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def lua_script(operation: dict, headers: dict) -> str:
    headers = {**headers, "Content-Type": "application/json"}
    lines = [f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items()]
    return _LUA % {"headers": "\n".join(lines), "body": operation["lua"]}


_RUNS = iter(range(1, 10**9))


def run_wrk(script: Path, base: str, connections: int, seconds: float) -> dict:
    threads = min(connections, 2)
    completed = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            base,
            "--",
            str(next(_RUNS)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    sys.exit(f"wrk failed:\n{completed.stdout}\n{completed.stderr}")


def operations(models: int, versions: int) -> list[dict]:
    """Each operation: label, kind, and the Lua of its request() (``n`` is
    unique per request in a wrk run, ``run`` per wrk run)."""
    get = 'return wrk.format("GET", %s)'
    model = f'string.format("model-%03d", n % {models})'
    return [
        {
            "label": "get model",
            "kind": "read",
            "lua": get % f'"{PREFIX}registered-models/get?name=" .. {model}',
        },
        {
            "label": "get version",
            "kind": "read",
            "lua": get
            % (
                f'"{PREFIX}model-versions/get?name=" .. {model} .. '
                f'"&version=" .. ((n % {versions}) + 1)'
            ),
        },
        {
            "label": "search models (100)",
            "kind": "read",
            # The first two pages of 100 (the page token is the same on both
            # servers: base64 of {"offset": 100}).
            "lua": get
            % (
                f'"{PREFIX}registered-models/search?max_results=100" .. '
                '(n % 2 == 0 and "" or "&page_token=eyJvZmZzZXQiOiAxMDB9")'
            ),
        },
        {
            "label": "search versions",
            "kind": "read",
            "lua": get
            % (
                f'"{PREFIX}model-versions/search?filter=name%3D%27" .. {model} .. "%27"'
            ),
        },
        {
            "label": "create model",
            "kind": "write",
            "lua": (
                'local body = string.format(\'{"name": "w%d-%d", '
                '"description": "Benchmark model.", "tags": [{"key": "owner", '
                '"value": "bench"}]}\', run, n)\n'
                f'  return wrk.format("POST", "{PREFIX}registered-models/create", '
                "nil, body)"
            ),
        },
        {
            "label": "create version",
            "kind": "write",
            "lua": (
                'local digest = string.format("%032x%032x", run, n)\n'
                f"  local name = {model}\n"
                '  local body = "{\\"name\\": \\"" .. name .. "\\", \\"source\\": '
                '\\"s3://bench/" .. name .. "/w" .. digest .. "\\", \\"tags\\": '
                '[{\\"key\\": \\"gatehouse.sha256\\", \\"value\\": \\"" .. digest '
                '.. "\\"}, {\\"key\\": \\"gatehouse.size_bytes\\", \\"value\\": '
                '\\"1000\\"}, {\\"key\\": \\"quality\\", \\"value\\": \\"gold\\"}]}"\n'
                f'  return wrk.format("POST", "{PREFIX}model-versions/create", '
                "nil, body)"
            ),
        },
    ]


def native_operations(models: int, versions: int) -> list[dict]:
    """Gatehouse's own API, and the MLflow-compatible read it is compared with."""
    get = 'return wrk.format("GET", %s)'
    model = f'string.format("model-%03d", n % {models})'
    total = models * versions
    return [
        {
            "label": "v1 model detail",
            "same_as": "get model",
            "lua": get % f'"/api/v1/models/" .. {model} .. "/"',
        },
        {
            "label": "v1 version detail",
            "same_as": "get version",
            "lua": get % f'"/api/v1/versions/" .. ((n % {total}) + 1) .. "/"',
        },
        {
            "label": "v1 models list (50)",
            "same_as": "search models (100)",
            "lua": get % '"/api/v1/models/?limit=50&offset=" .. ((n % 4) * 50)',
        },
        {
            "label": "v1 model versions",
            "same_as": "search versions",
            "lua": get % f'"/api/v1/models/" .. {model} .. "/versions/"',
        },
    ]


def measure(server: dict, operation: dict, concurrency: int, seconds: float):
    script = server["dir"] / f"{abs(hash(operation['lua']))}.lua"
    script.write_text(lua_script(operation, server["headers"]))
    warm = min(2.0, seconds / 2)
    run_wrk(script, server["url"], concurrency, warm)
    cpu_before = cpu_seconds(server["process"].pid, server["database"])
    result = run_wrk(script, server["url"], concurrency, seconds)
    cpu_after = cpu_seconds(server["process"].pid, server["database"])
    ok = max(result["requests"] - result["status_errors"], 1)
    duration = result["duration_us"] / 1e6
    server_cpu, db_cpu = cpu_used(cpu_before, cpu_after)
    return {
        "rps": ok / duration,
        "p50": result["p50_us"] / 1000,
        "p99": result["p99_us"] / 1000,
        "cpu_ms": server_cpu * 1000 / ok,
        "db_ms": db_cpu * 1000 / ok,
        "errors": result["status_errors"] + result["socket_errors"],
        "load": load_average(),
    }


def show(label: str, name: str, result: dict) -> None:
    print(
        f"  {label:<22} {name:<9} {result['rps']:8.1f}/s  p50 {result['p50']:6.1f}"
        f"  p99 {result['p99']:6.1f} ms  CPU {result['cpu_ms']:5.1f} + db "
        f"{result['db_ms']:4.1f} ms/req  err {result['errors']}  "
        f"load {result['load']:.1f}",
        flush=True,
    )


def compare(args, servers, kind: str) -> dict:
    """``args.rounds`` A/B pairs of every operation of ``kind`` (read or
    write; the writes also one sequential client)."""
    results: dict[tuple[str, str], list[dict]] = {}
    pairs = 0
    for _ in range(args.rounds):
        for operation in operations(args.models, args.versions):
            if operation["kind"] != kind:
                continue
            concurrency = (
                args.concurrency
                if operation["kind"] == "read"
                else args.write_concurrency
            )
            order = servers if pairs % 2 == 0 else servers[::-1]
            pairs += 1
            for server in order:
                result = measure(server, operation, concurrency, args.seconds)
                results.setdefault((operation["label"], server["name"]), []).append(
                    result
                )
                show(operation["label"], server["name"], result)
        if kind != "write":
            continue
        for operation in operations(args.models, args.versions)[-2:]:
            sequential = {**operation, "label": operation["label"] + ", c=1"}
            order = servers if pairs % 2 == 0 else servers[::-1]
            pairs += 1
            for server in order:
                result = measure(server, sequential, 1, args.seconds)
                results.setdefault((sequential["label"], server["name"]), []).append(
                    result
                )
                show(sequential["label"], server["name"], result)
    return results


def native(args, gatehouse: dict, results: dict) -> None:
    for _ in range(args.rounds):
        for operation in native_operations(args.models, args.versions):
            result = measure(gatehouse, operation, args.concurrency, args.seconds)
            results.setdefault((operation["label"], "Gatehouse"), []).append(result)
            show(operation["label"], "Gatehouse", result)


def summary(args, results: dict) -> None:
    print()
    print(
        f"{args.workers} gunicorn workers per server (Gatehouse {args.worker_class}"
        f"{f', {args.threads} threads' if args.worker_class == 'gthread' else ''}; "
        f"MLflow sync), {args.models} models x {args.versions} versions, "
        f"{args.seconds:g} s per run, reads at c={args.concurrency}, writes at "
        f"c={args.write_concurrency}, {os.cpu_count()} CPUs"
    )
    header = (
        f"{'operation':<22} {'G req/s':>8} {'M req/s':>8} {'ratios (pairs)':<24} "
        f"{'median':>6} {'G p50/p99 ms':>13} {'M p50/p99 ms':>13} "
        f"{'G CPU+db':>9} {'M CPU+db':>9}"
    )
    print(header)
    print("-" * len(header))
    labels = dict.fromkeys(label for label, _ in results)
    cpu_of = {}
    for label in labels:
        mine = results.get((label, "Gatehouse"), [])
        theirs = results.get((label, "MLflow"), [])

        def med(rows, key):
            return statistics.median(row[key] for row in rows) if rows else 0.0

        cpu_of[label] = med(mine, "cpu_ms") + med(mine, "db_ms")
        if theirs:
            if label.endswith("c=1"):  # latency: MLflow's p50 over ours
                ratios = [
                    m["p50"] / g["p50"] for g, m in zip(mine, theirs, strict=True)
                ]
            else:
                ratios = [
                    g["rps"] / m["rps"] for g, m in zip(mine, theirs, strict=True)
                ]
            pairs = " ".join(f"{ratio:.2f}" for ratio in ratios)
            median = f"{statistics.median(ratios):.2f}x"
        else:
            pairs, median = "", ""
        print(
            f"{label:<22} {med(mine, 'rps'):8.1f} {med(theirs, 'rps'):8.1f} "
            f"{pairs:<24} {median:>6} "
            f"{med(mine, 'p50'):6.1f}/{med(mine, 'p99'):<6.1f} "
            f"{med(theirs, 'p50'):6.1f}/{med(theirs, 'p99'):<6.1f} "
            f"{cpu_of[label]:9.1f} "
            f"{med(theirs, 'cpu_ms') + med(theirs, 'db_ms'):9.1f}"
        )
    native_rows = [
        (operation["label"], operation["same_as"])
        for operation in native_operations(1, 1)
        if operation["label"] in cpu_of and operation["same_as"] in cpu_of
    ]
    if native_rows:
        print()
        for label, same in native_rows:
            print(
                f"{label}: {cpu_of[label]:.1f} ms CPU+db per request, "
                f"{cpu_of[label] / cpu_of[same]:.2f}x the MLflow-compatible "
                f"'{same}' ({cpu_of[same]:.1f} ms)"
            )
    print(
        "\nRatios: Gatehouse's requests per second over MLflow's (for c=1: "
        "MLflow's p50 over Gatehouse's); above 1 means Gatehouse is faster."
    )


def start_servers(args, portal_url: str, store_url: str, logs: Path, processes: list):
    """Gatehouse and MLflow's server under gunicorn, ``args.workers`` workers
    each, appended to ``processes``; return their base URLs once both answer."""
    env = {
        **os.environ,
        "DATABASE_URL": portal_url,
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_MANIFEST": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    bin_dir = Path(sys.executable).parent
    gatehouse_port, mlflow_port = free_port(), free_port()
    worker = (
        ["--worker-class", "gthread", "--threads", str(args.threads)]
        if args.worker_class == "gthread"
        else []
    )
    processes.append(
        start(
            [
                str(bin_dir / "gunicorn"),
                "portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{gatehouse_port}",
                "--workers",
                str(args.workers),
                *worker,
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
                # Gunicorn (sync workers) rather than uvicorn: MLflow's
                # fastest server on these reads.
                "--gunicorn-opts",
                "--log-level warning",
            ],
            env,
            logs / "server.log",
        )
    )
    gatehouse = f"http://127.0.0.1:{gatehouse_port}"
    mlflow = f"http://127.0.0.1:{mlflow_port}"
    probe = PREFIX + "registered-models/search"
    wait_until_up(gatehouse + probe, processes[0], logs / "gunicorn.log")
    wait_until_up(mlflow + probe, processes[1], logs / "server.log")
    return gatehouse, mlflow


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_mlflow_api needs wrk: apt-get install -y wrk")
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    portal_db, store_db = args.db_prefix, args.db_prefix + "_store"
    maintenance = with_database(url, "postgres")
    portal_url = with_database(url, portal_db)
    store_url = with_database(url, store_db, scheme="postgresql+psycopg")
    for name in (portal_db, store_db):
        recreate(maintenance, name, create=True)
    logs = REPO_ROOT / "var" / "bench-mlflow"
    logs.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-mlflow-"))
    try:
        token = prepare_gatehouse(portal_url)
        gatehouse, mlflow = start_servers(args, portal_url, store_url, logs, processes)
        servers = [
            {
                "name": "Gatehouse",
                "url": gatehouse,
                "headers": {"Authorization": f"Bearer {token}"},
                "process": processes[0],
                "database": portal_db,
                "dir": scratch,
            },
            {
                "name": "MLflow",
                "url": mlflow,
                "headers": {},
                "process": processes[1],
                "database": store_db,
                "dir": scratch,
            },
        ]
        started = time.monotonic()
        print(f"filling both: {args.models} models x {args.versions} versions")
        for server in servers:
            fill(server["url"], server["headers"], args.models, args.versions)
        print(f"filled in {time.monotonic() - started:.0f} s")
        import psycopg

        for database in (portal_db, store_db):
            with psycopg.connect(with_database(url, database), autocommit=True) as c:
                c.execute("ANALYZE")
        # Reads first, on the registries as filled: the writes add thousands of
        # models per run, and every read after them would read those too.
        results = (
            compare(args, servers, "read") if args.only in ("all", "reads") else {}
        )
        if args.only in ("all", "native"):
            if args.only == "native":
                for operation in operations(args.models, args.versions)[:4]:
                    result = measure(servers[0], operation, args.concurrency, 3)
                    results[(operation["label"], "Gatehouse")] = [result]
            native(args, servers[0], results)
        if args.only in ("all", "writes"):
            results.update(compare(args, servers, "write"))
        summary(args, results)
        return 0
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(scratch, ignore_errors=True)
        for name in (portal_db, store_db):
            recreate(maintenance, name, create=False)


if __name__ == "__main__":
    sys.exit(main())
