"""``load_prompt`` by alias at concurrency 16: Gatehouse against MLflow's own
server, side by side in one run, with the same prompts.

Run from the repository root (``--quick`` for a short run)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse \\
        .venv/bin/python tests/bench/bench_llm.py [--quick]

Like ``bench_mlflow_api.py`` (whose helpers it uses): two scratch databases on
the DATABASE_URL server (``--db-prefix``, default ``gatehouse_bench_llm``),
dropped at the end; both servers under gunicorn with the same number of sync
workers; load from ``wrk``; A/B pairs alternating which server goes first.

Both registries get the same prompts over HTTP, as ``mlflow.genai.register_prompt``
sends them (a registered model tagged ``mlflow.prompt.is_prompt``, versions
carrying the template in ``mlflow.prompt.text``, the placeholder source).
``production`` names version 2 of each prompt: on MLflow an alias set over
HTTP; on Gatehouse a governed alias, answered from the live full deployment
(a deployment row written here, as an approval would execute it), so each read
resolves the governed-alias rules, the live deployment and the permission of
the calling data scientist (a bearer API token). MLflow has no authentication.

``mlflow.genai.load_prompt("prompts:/name@production")`` (its cache off) makes
two calls: ``registered-models/get`` (is it a prompt?) then
``registered-models/alias``. Measured: the alias read alone, and the pair as
the client makes it (alternating, one per request). A correctness check loads
one prompt through the real client from both servers first.
"""

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from tests.bench import bench_mlflow_api as base  # noqa: E402

PREFIX = base.PREFIX
IS_PROMPT = "mlflow.prompt.is_prompt"
TEMPLATE = (
    "You are the support assistant of Example Bank. Answer {{customer_name}}'s "
    "question about cards, statements or payments in a {{tone}} tone, version "
    "%d: {{question}}"
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small and short")
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--versions", type=int, default=3, help="per prompt")
    parser.add_argument("--seconds", type=float, default=10, help="per run")
    parser.add_argument("--rounds", type=int, default=3, help="A/B pairs per op")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="per server")
    parser.add_argument("--db-prefix", default="gatehouse_bench_llm")
    args = parser.parse_args()
    if args.quick:
        args.prompts, args.seconds, args.rounds = min(args.prompts, 40), 4, 2
    # What bench_mlflow_api's helpers read.
    args.models, args.worker_class, args.threads = args.prompts, "sync", 1
    args.write_concurrency = args.concurrency
    return args


def prompt_name(index: int) -> str:
    return f"prompt-{index:03d}"


def fill(url: str, headers: dict, prompts: int, versions: int) -> None:
    """The prompts as mlflow.genai.register_prompt sends them."""
    import requests

    session = requests.Session()
    session.headers.update(headers)

    def post(path: str, body: dict) -> None:
        response = session.post(url + PREFIX + path, json=body, timeout=60)
        if response.status_code != 200:
            sys.exit(f"{url}: {path} answered {response.status_code}: "
                     f"{response.text[:500]}")  # fmt: skip

    for index in range(prompts):
        name = prompt_name(index)
        post(
            "registered-models/create",
            {
                "name": name,
                "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}],
            },
        )
        for number in range(1, versions + 1):
            post(
                "model-versions/create",
                {
                    "name": name,
                    "source": "dummy-source",
                    "description": f"Release {number}.",
                    "tags": [
                        {"key": IS_PROMPT, "value": "true"},
                        {"key": "_mlflow_prompt_type", "value": "text"},
                        {
                            "key": "mlflow.prompt.text",
                            "value": TEMPLATE % number,
                        },
                    ],
                },
            )


def point_production(url: str, prompts: int) -> None:
    """MLflow: the alias production → version 2 of every prompt."""
    import requests

    for index in range(prompts):
        body = {"name": prompt_name(index), "alias": "production", "version": "2"}
        response = requests.post(
            url + PREFIX + "registered-models/alias", json=body, timeout=60
        )
        if response.status_code != 200:
            sys.exit(f"MLflow alias answered {response.status_code}")


def deploy_production(prompts: int) -> None:
    """Gatehouse: version 2 of every prompt live at full traffic in production,
    as an executed approval leaves it (the portal's Django is set up by
    bench_mlflow_api.prepare_gatehouse)."""
    from django.contrib.auth import get_user_model
    from django.db import connections

    from approvals.models import Deployment, Environment
    from models_registry.models import ModelVersion

    person = get_user_model().objects.get(username="bench-scientist")
    production = Environment.objects.get(name="production")
    versions = ModelVersion.objects.filter(
        model__name__in=[prompt_name(i) for i in range(prompts)], version=2
    ).select_related("model", "artifact")
    Deployment.objects.bulk_create(
        Deployment(
            model=version.model,
            version=version,
            environment=production,
            artifact=version.artifact,
            artifact_sha256=version.artifact.sha256,
            strategy="full",
            deployed_by=person,
        )
        for version in versions
    )
    connections.close_all()


def check_with_the_client(servers: list[dict]) -> None:
    """The real client loads prompt-000@production from both: version 2."""
    import mlflow

    for server in servers:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
        token = server["headers"].get("Authorization", "").removeprefix("Bearer ")
        if token:
            os.environ["MLFLOW_TRACKING_TOKEN"] = token
        # Tracking too: otherwise the client makes a local mlflow.db.
        mlflow.set_tracking_uri(server["url"])
        mlflow.set_registry_uri(server["url"])
        prompt = mlflow.genai.load_prompt(
            "prompts:/prompt-000@production", cache_ttl_seconds=0
        )
        if prompt.version != 2 or "version 2" not in prompt.template:
            sys.exit(f"{server['name']} loaded {prompt.version}: {prompt.template}")
        print(f"  {server['name']}: load_prompt('prompts:/prompt-000@production') "
              f"-> version {prompt.version}")  # fmt: skip
        # The client tags the prompt with its experiment in a thread: let it
        # finish with these credentials.
        for thread in threading.enumerate():
            if thread.name.startswith("link_prompt_to_experiment_thread"):
                thread.join(timeout=30)
    os.environ.pop("MLFLOW_TRACKING_TOKEN", None)


def operations(prompts: int) -> list[dict]:
    get = 'return wrk.format("GET", %s)'
    name = f'string.format("prompt-%03d", n % {prompts})'
    alias = f'"{PREFIX}registered-models/alias?alias=production&name=" .. {name}'
    model = f'"{PREFIX}registered-models/get?name=" .. {name}'
    return [
        {"label": "alias @production", "kind": "read", "lua": get % alias},
        {
            "label": "load_prompt (2 calls)",
            "kind": "read",
            # Requests alternate: the prompt's get, then its alias (counted as
            # requests; a load_prompt is two of them).
            "lua": (
                f"local name = {name}\n"
                "  if counter % 2 == 0 then\n"
                f'    return wrk.format("GET", "{PREFIX}registered-models/get?name=" '
                ".. name)\n"
                "  end\n"
                f'  return wrk.format("GET", "{PREFIX}registered-models/alias?'
                'alias=production&name=" .. name)'
            ),
        },
        {"label": "get prompt", "kind": "read", "lua": get % model},
    ]


def compare(args, servers) -> dict:
    results: dict = {}
    pairs = 0
    for _ in range(args.rounds):
        for operation in operations(args.prompts):
            order = servers if pairs % 2 == 0 else servers[::-1]
            pairs += 1
            for server in order:
                result = base.measure(server, operation, args.concurrency, args.seconds)
                results.setdefault((operation["label"], server["name"]), []).append(
                    result
                )
                base.show(operation["label"], server["name"], result)
    return results


def main() -> int:
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_llm needs wrk: apt-get install -y wrk")
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    portal_db, store_db = args.db_prefix, args.db_prefix + "_store"
    maintenance = base.with_database(url, "postgres")
    portal_url = base.with_database(url, portal_db)
    store_url = base.with_database(url, store_db, scheme="postgresql+psycopg")
    for name in (portal_db, store_db):
        base.recreate(maintenance, name, create=True)
    logs = REPO_ROOT / "var" / "bench-llm"
    logs.mkdir(parents=True, exist_ok=True)
    processes: list = []
    scratch = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    try:
        token = base.prepare_gatehouse(portal_url)
        gatehouse, mlflow = base.start_servers(
            args, portal_url, store_url, logs, processes
        )
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
        print(f"filling both: {args.prompts} prompts x {args.versions} versions")
        for server in servers:
            fill(server["url"], server["headers"], args.prompts, args.versions)
        point_production(mlflow, args.prompts)
        deploy_production(args.prompts)
        print(f"filled in {time.monotonic() - started:.0f} s")
        import psycopg

        for database in (portal_db, store_db):
            with psycopg.connect(
                base.with_database(url, database), autocommit=True
            ) as c:
                c.execute("ANALYZE")
        check_with_the_client(servers)
        base.summary(args, compare(args, servers))
        print(
            "Gatehouse's reads check the token, the caller's permission on the "
            "prompt and (for production) the governed-alias rules and the live "
            "deployment; MLflow's check nothing."
        )
        return 0
    finally:
        for process in processes:
            base.stop(process)
        shutil.rmtree(scratch, ignore_errors=True)
        for name in (portal_db, store_db):
            base.recreate(maintenance, name, create=False)


if __name__ == "__main__":
    sys.exit(main())
