"""Benchmark lineage and reports on a large model, on PostgreSQL.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse DEBUG=1 \\
        .venv/bin/python tests/bench/bench_reports.py

It never touches the database named in DATABASE_URL: it drops and recreates a
scratch database ``gatehouse_bench_reports`` on the same server, migrates it,
fills it, measures, and drops it again. It is a script, not a pytest test.

The model: 100 versions, each trained by its own run on the last snapshot of a
derivation chain (500 snapshots in all: 100 chains of five, every fifth chain
joined to the previous one in a diamond), evaluated on a shared test snapshot
with two fairness slices, with a reproduction check; 20 of the versions deployed
to staging one after the other through approved requests, the last one rolled
back; and the model's audit events topped up to 20,000 (monitoring-like events
scoped to the model). Everything is written through the services.

Measured, as an auditor (median and 95th percentile of the wall time of several
runs after a warm-up, and the median CPU time of this process):

* the lineage graph selector (``lineage_graph``) and its query count;
* the lineage page (graph drawn as SVG, and the table);
* the HTML report (``GET /reports/models/<name>/``: build, chain verification
  over all 20,000+ events, template, and the export's audit event);
* the PDF report (``?format=pdf``, WeasyPrint);
* the JSON and CSV reports (every one of the 20,000 events; large, so the
  portal prepares them in the background: timed through the service);
* the audit event list at its last page (keyset), whole log and the model's.

Targets from the issue (on the 95th percentile): graph < 200 ms, HTML < 1 s,
PDF < 10 s, audit page < 100 ms. A slow figure is reported, not fatal.
"""

import argparse
import base64
import hashlib
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "gatehouse_bench_reports"
TARGETS_MS = {"graph": 200.0, "html": 1000.0, "pdf": 10_000.0, "audit": 100.0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--snapshots", type=int, default=500)
    parser.add_argument("--events", type=int, default=20_000, help="model's events")
    parser.add_argument("--deployments", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure")
    return parser.parse_args()


# --- Scratch database -------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
        sys.exit(f"bench_reports needs a PostgreSQL DATABASE_URL, not {url!r}")
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


def setup_django(bench_url: str, var_dir: Path) -> None:
    # Must happen before django.setup(): settings read DATABASE_URL on import.
    os.environ["DATABASE_URL"] = bench_url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()

    from django.conf import settings

    # DEBUG=1 is only there for the development SECRET_KEY. With DEBUG on, Django
    # records every query; a production process does not.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.AUDIT_SIGNING_KEY = base64.b64encode(os.urandom(32)).decode()
    settings.VAR_DIR = var_dir
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- Data -------------------------------------------------------------------------


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def person(username: str, *groups):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(username=username, password=None)
    user.groups.add(*Group.objects.filter(name__in=groups))
    return user


def fill(args) -> tuple:
    from django.contrib.auth.models import Group
    from django.db import transaction

    from approvals import services as approvals
    from approvals.models import ApprovalPolicy, Environment
    from audit.models import AuditEvent
    from audit.services import audit_record
    from kernel import roles
    from kernel.models import Team
    from models_registry import services

    ApprovalPolicy.objects.filter(risk_class="low").update(
        gate_items=[],
        required_approvals=1,
        required_roles=[],
        requires_staged_rollout=False,
        big_change_requires_ab=False,
    )
    team = Team.objects.create(
        name="Credit Risk",
        slug="credit-risk",
        group=Group.objects.create(name="team:credit-risk"),
    )
    admin = person("pat", roles.PLATFORM_ADMIN)
    author = person("dana", roles.DATA_SCIENTIST, team.group.name)
    requester = person("ravi", roles.DATA_SCIENTIST, team.group.name)
    reviewer = person("rey", roles.REVIEWER)
    auditor = person("audrey", roles.AUDITOR)
    services.model_reviewer_assign(actor=admin, user=reviewer, team=team)

    model = services.model_create(
        actor=author,
        team=team,
        name="credit-scoring",
        title="Credit scoring",
        domain="credit",
        risk_class="low",
        regulatory_tier="high",
        serving_mode="real_time",
        latency_slo_ms=150,
        offline_success_metrics=[
            {"metric": "auc", "direction": "higher", "threshold": 0.75}
        ],
        online_success_metrics=[
            {"kpi": "approval_rate", "direction": "higher", "threshold": 0.5}
        ],
        fairness_attributes=["sex"],
    )
    schema = [
        {"name": "income", "type": "float"},
        {"name": "sex", "type": "string"},
        {"name": "email", "type": "string"},
    ]
    pii = [{"column": "email", "handling": "hashed", "legal_basis": ""}]

    def snapshot(name, parents=()):
        created, _ = services.dataset_snapshot_create(
            actor=author,
            team=team,
            name=name,
            uri=f"s3://datasets/{name}.parquet",
            sha256=digest(name),
            row_count=100_000,
            schema=schema,
            pii_columns=pii,
            parents=list(parents),
        )
        return created

    test = snapshot("loans-test-2024")
    chain_length = max(1, args.snapshots // args.versions)
    tails = []
    for chain in range(args.versions):
        parents = []
        # Every fifth chain starts from the previous chain's second snapshot
        # as well: a diamond across chains.
        previous = None
        for step in range(chain_length):
            parents = [previous] if previous is not None else []
            if step == 1 and chain % 5 == 4 and tails:
                parents.append(tails[-1][1])
            previous = snapshot(f"loans-{chain:03d}-{step}", parents)
            if step == 0:
                first = previous
            if step == 1:
                second = previous
        tails.append((previous, second if chain_length > 1 else first))

    versions = []
    for number, (tail, _) in enumerate(tails, start=1):
        run, _ = services.training_run_create(
            actor=author,
            model=model,
            external_run_id=f"run-{number}",
            code_repository="https://git.example.com/credit/scoring",
            code_commit=digest(f"commit-{number}")[:40],
            environment_lock_hash=digest(f"env-{number}"),
            parameters={"max_depth": 6, "learning_rate": 0.1},
            random_seed=42,
            inputs=[(tail, "train"), (test, "test")],
        )
        version, _ = services.model_version_register(
            actor=author,
            model=model,
            training_run=run,
            artifact={
                "uri": f"s3://models/credit-scoring/{number}/model.pkl",
                "sha256": digest(f"artifact-{number}"),
                "size_bytes": 1_000_000 + number,
                "format": "xgboost",
                "preprocessing_code_version": f"prep-1.{number}.0",
                "feature_spec": [{"name": "income", "type": "numeric"}],
            },
            card={
                "intended_use": "Score consumer loan applications.",
                "limitations": "Thin-file applicants.",
                "training_data_summary": f"Chain {number}.",
            },
        )
        services.evaluation_record(
            actor=author,
            version=version,
            split="test",
            dataset=test,
            metrics={"auc": 0.8 + number / 10_000, "ks": 0.4},
            slices=[
                {
                    "attribute": "sex",
                    "group": "female",
                    "size": 400,
                    "metrics": {"auc": 0.8},
                },
                {
                    "attribute": "sex",
                    "group": "male",
                    "size": 600,
                    "metrics": {"auc": 0.81},
                },
            ],
        )
        services.reproduction_check_record(
            actor=author, version=version, artifact_sha256=version.artifact.sha256
        )
        versions.append(version)

    staging = Environment.objects.get(name="staging")
    last = None
    for version in versions[-args.deployments :]:
        request = approvals.deployment_request_submit(
            actor=requester,
            version=version,
            environment=staging,
            strategy="full",
            justification="Better AUC on 2024 data.",
        )
        _, last = approvals.decision_record(
            actor=reviewer, request_id=request.pk, outcome="approve", comment="ok"
        )
    if last is not None and last.rollback_target_id:
        approvals.deployment_rollback(
            actor=requester, deployment_id=last.pk, reason="Latency doubled"
        )

    scoped = AuditEvent.objects.filter(scope=model.name).count()
    top_up = max(0, args.events - scoped)
    done = 0
    while done < top_up:
        with transaction.atomic():
            for _ in range(min(5_000, top_up - done)):
                audit_record(
                    actor=None,
                    actor_text="monitoring",
                    action="monitoring.batch_ingested",
                    target_type="models_registry.registeredmodel",
                    target_id=str(model.pk),
                    target_text=model.name,
                    scope=model.name,
                    payload={"batch": done, "rows": 1000},
                )
                done += 1
    return model, auditor


# --- Timing -----------------------------------------------------------------------


def timed(function, runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of each run (CPU: this process only, so the
    database server's share is not in it; it shows what other load on the
    machine did to the wall figure)."""
    function()  # warm-up
    walls, cpus = [], []
    for _ in range(runs):
        cpu, start = time.process_time(), time.perf_counter()
        function()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return walls, cpus


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)]


def get(client, url: str):
    def fetch():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        return response

    return fetch


def main() -> int:
    args = parse_args()
    source_url = os.environ.get("DATABASE_URL", "")
    if not source_url:
        sys.exit("set DATABASE_URL to a PostgreSQL server, e.g. postgres://...")
    bench_url = with_database(source_url, BENCH_DB)
    maintenance_url = with_database(source_url, "postgres")
    recreate_database(maintenance_url, BENCH_DB, create=True)
    import tempfile

    try:
        with tempfile.TemporaryDirectory(prefix="bench-reports-") as var_dir:
            return run(args, bench_url, Path(var_dir))
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception as error:  # Django may not have got as far as setup.
            print(f"(closing Django connections: {error})", file=sys.stderr)
        recreate_database(maintenance_url, BENCH_DB, create=False)
        print(f"dropped scratch database {BENCH_DB}")


def run(args, bench_url: str, var_dir: Path) -> int:
    setup_django(bench_url, var_dir)
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from audit.models import AuditEvent
    from audit.selectors import PAGE_SIZE
    from models_registry.models import DatasetSnapshot, ModelVersion
    from portal.lineage import lineage_graph
    from portal.reports.services import report_export

    start = time.perf_counter()
    model, auditor = fill(args)
    fill_s = time.perf_counter() - start
    total = AuditEvent.objects.count()
    scoped = AuditEvent.objects.filter(scope=model.name).count()
    graph = lineage_graph(actor=auditor, model=model)
    print(
        f"filled in {fill_s:.0f} s: {ModelVersion.objects.count()} versions, "
        f"{DatasetSnapshot.objects.count()} snapshots, {scoped:,} audit events of "
        f"the model ({total:,} in the log); graph of {len(graph.nodes)} nodes, "
        f"{len(graph.edges)} edges, derivation depth {graph.max_depth}"
    )
    with CaptureQueriesContext(connection) as captured:
        lineage_graph(actor=auditor, model=model)
    graph_queries = len(captured)

    client = Client()
    client.force_login(auditor)
    report = reverse("reports:model-report", args=[model.name])
    audit_list = reverse("audit:event-list")
    last_page = f"{audit_list}?before={(total % PAGE_SIZE or PAGE_SIZE) + 1}"
    model_events = list(
        AuditEvent.objects.filter(scope=model.name)
        .order_by("sequence")
        .values_list("sequence", flat=True)[: PAGE_SIZE + 1]
    )
    model_last_page = f"{audit_list}?model={model.name}&before={model_events[-1]}"

    rows = []

    def number(value: float) -> str:
        return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"

    def measure(label, function, runs, target=None):
        walls, cpus = timed(function, runs)
        verdict = ""
        if target is not None:
            verdict = "PASS" if p95(walls) < target else "FAIL"
        rows.append(
            (
                label,
                number(statistics.median(walls)),
                number(p95(walls)),
                number(statistics.median(cpus)),
                f"< {target:,.0f}" if target else "",
                verdict,
            )
        )

    measure(
        f"lineage graph selector ({graph_queries} queries)",
        lambda: lineage_graph(actor=auditor, model=model),
        max(args.runs, 20),
        TARGETS_MS["graph"],
    )
    measure(
        "lineage page (SVG + table)",
        get(client, reverse("registry:model-lineage", args=[model.name])),
        args.runs,
    )
    measure(
        "HTML report (GET, on screen)",
        get(client, report),
        args.runs,
        TARGETS_MS["html"],
    )
    measure(
        "PDF report (GET ?format=pdf)",
        get(client, report + "?format=pdf"),
        max(3, args.runs // 2),
        TARGETS_MS["pdf"],
    )
    for export_format in ("json", "csv"):
        measure(
            f"{export_format.upper()} report, all events (service)",
            lambda export_format=export_format: report_export(
                actor=auditor, model=model, export_format=export_format
            ),
            max(1, args.runs // 2),
        )
    measure(
        "audit list, last page (keyset)",
        get(client, last_page),
        max(args.runs, 30),
        TARGETS_MS["audit"],
    )
    measure(
        "audit list, the model's last page",
        get(client, model_last_page),
        max(args.runs, 30),
        TARGETS_MS["audit"],
    )
    pdf = client.get(report + "?format=pdf").content
    print(f"PDF size {len(pdf) / 1024:,.0f} KiB")

    import platform

    print(
        f"{platform.python_version()} on {os.cpu_count()} CPUs; load average "
        f"{', '.join(f'{value:.1f}' for value in os.getloadavg())} at the end"
    )
    header = ("figure", "median ms", "p95 ms", "cpu ms", "target", "")
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(6)]
    line = "  ".join("-" * width for width in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for row in rows:
        print(
            "  ".join(
                [row[0].ljust(widths[0])]
                + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
            )
        )
    print(line)
    failed = [row[0] for row in rows if row[5] == "FAIL"]
    print("every figure under target" if not failed else f"OVER TARGET: {failed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
