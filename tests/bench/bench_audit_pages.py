"""Benchmark the auditor's pages over a 20,000-event audit log on PostgreSQL.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse DEBUG=1 \\
        .venv/bin/python tests/bench/bench_audit_pages.py

It never touches the database named in DATABASE_URL: it drops and recreates a
scratch database ``gatehouse_bench_audit_pages`` on the same server, migrates it,
fills it, measures, and drops it again. It is a script, not a pytest test.

Each page is requested through Django's test Client, logged in as an auditor
(so the figure includes sessions, permissions, the template and middleware, not
the network): the newest page of the list, the last (oldest) page reached by
keyset, a filtered page deep in the log, an event's detail page, and the
checkpoint list. Target: under 100 ms per page. The CSV export of the whole log
is timed too, for information.
"""

import argparse
import base64
import os
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "gatehouse_bench_audit_pages"
TARGET_MS = 100.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="audit events")
    parser.add_argument("--runs", type=int, default=30, help="requests per page")
    parser.add_argument(
        "--fill-batch", type=int, default=5_000, help="appends per fill transaction"
    )
    return parser.parse_args()


# --- Scratch database -------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
        sys.exit(f"bench_audit_pages needs a PostgreSQL DATABASE_URL, not {url!r}")
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


def setup_django(bench_url: str) -> None:
    # Must happen before django.setup(): settings read DATABASE_URL on import.
    os.environ["DATABASE_URL"] = bench_url
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

    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- Data -------------------------------------------------------------------------

ACTIONS = (
    "model.registered",
    "model.version_registered",
    "token.created",
    "token.revoked",
    "approval.requested",
    "approval.decided",
    "deployment.started",
    "auth.login",
)
ACTORS = ("dana", "rey", "rio", "val", "pat", "system")
MODELS = tuple(f"model-{n:03d}" for n in range(40))


def fill(count: int, batch: int) -> float:
    from django.db import transaction

    from audit.services import audit_checkpoint_create, audit_record

    start = time.perf_counter()
    i = 0
    while i < count:
        with transaction.atomic():
            for _ in range(min(batch, count - i)):
                audit_record(
                    actor=None,
                    actor_text=ACTORS[i % len(ACTORS)],
                    action=ACTIONS[i % len(ACTIONS)],
                    target_type="models_registry.modelversion",
                    target_id=str(i),
                    target_text=f"{MODELS[i % len(MODELS)]} v{i // len(MODELS)}",
                    scope=MODELS[i % len(MODELS)],
                    payload={"version": i, "diff": {"status": ["draft", "approved"]}},
                )
                i += 1
        # One signed checkpoint per batch, as the hourly task would leave.
        audit_checkpoint_create()
    return time.perf_counter() - start


def auditor_client():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    user = get_user_model().objects.create_user(username="bench-auditor")
    user.groups.add(Group.objects.get(name="auditor"))
    client = Client()
    client.force_login(user)
    return client


# --- Timing -----------------------------------------------------------------------


def time_page(client, url: str, runs: int, *, check=None) -> list[float]:
    response = client.get(url)  # warm up, and check what it shows
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    if check is not None:
        check(response)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return timings


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
    setup_django(bench_url)
    from django.urls import reverse

    from audit.models import AuditEvent
    from audit.selectors import PAGE_SIZE

    fill_s = fill(args.events, args.fill_batch)
    client = auditor_client()
    total = AuditEvent.objects.count()
    print(f"filled {args.events:,} events in {fill_s:.1f} s; log holds {total:,}")

    list_url = reverse("audit:event-list")
    # The oldest page, as the chain of "older" links reaches it: the newest page
    # shows the PAGE_SIZE newest, each older page the next PAGE_SIZE.
    last_page_size = total % PAGE_SIZE or PAGE_SIZE
    last_page = f"{list_url}?before={last_page_size + 1}"

    def is_last_page(response):
        body = response.content.decode()
        shown = re.findall(r'aria-label="Event (\d+)"', body)
        assert len(shown) == last_page_size, shown
        assert shown[-1] == "1", "the last page ends at event 1"
        assert 'rel="next"' not in body, "the last page has no older page"
        assert 'rel="prev"' in body, "the last page has a newer page"

    pages = [
        ("list, first page", list_url, None),
        ("list, last page (keyset)", last_page, is_last_page),
        ("list, oldest via after=0", f"{list_url}?after=0", None),
        (
            "list, filtered, deep",
            f"{list_url}?action=token.&actor=dana&before={total // 4}",
            None,
        ),
        (
            "list, model + dates",
            f"{list_url}?model=model-007&date_from=2000-01-01",
            None,
        ),
        ("event detail", reverse("audit:event-detail", args=[total // 2]), None),
        ("checkpoint list", reverse("audit:checkpoint-list"), None),
    ]
    rows = []
    all_pass = True
    for label, url, check in pages:
        timings = time_page(client, url, args.runs, check=check)
        median = statistics.median(timings)
        p95 = sorted(timings)[max(0, int(len(timings) * 0.95) - 1)]
        verdict = "PASS" if p95 < TARGET_MS else "FAIL"
        all_pass = all_pass and verdict == "PASS"
        rows.append(
            (label, f"{median:.1f}", f"{p95:.1f}", f"< {TARGET_MS:.0f}", verdict)
        )

    export_runs = max(1, min(3, args.runs))
    export = time_page(client, reverse("audit:event-export-csv"), export_runs)
    rows.append(
        (
            f"CSV export of all {total:,} events",
            f"{statistics.median(export):.0f}",
            f"{max(export):.0f}",
            "",
            "",
        )
    )

    header = ("page", "median ms", "p95 ms", "target", "")
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(5)]
    line = "  ".join("-" * width for width in widths)
    print(line)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for row in rows:
        print(
            "  ".join(
                [row[0].ljust(widths[0])]
                + [
                    cell.rjust(width)
                    for cell, width in zip(row[1:], widths[1:], strict=True)
                ]
            )
        )
    print(line)
    # A slow figure is reported, not fatal.
    print("all pages under target" if all_pass else "SOME PAGES OVER TARGET")
    return 0


if __name__ == "__main__":
    sys.exit(main())
