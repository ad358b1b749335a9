"""Benchmark the audit hash chain on PostgreSQL: append rate and verify rate.

Run from the repository root (``make bench`` does this)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse DEBUG=1 \\
        .venv/bin/python tests/bench/bench_audit.py

It never touches the database named in DATABASE_URL: it drops and recreates a
scratch database ``gatehouse_bench`` on the same server, migrates it, measures,
and drops it again at the end. It is a script, not a pytest test.

Measured:

* appends/s with 1 writer, each append its own transaction;
* appends/s with N concurrent writers (threads, one connection each), after
  which the chain must be gapless and intact;
* audit_chain_verify() over a chain of --verify-events events, in events/s.

``--profile`` also runs audit_chain_verify() under cProfile and prints the top
functions.
"""

import argparse
import cProfile
import io
import multiprocessing
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DB = "gatehouse_bench"

# Targets from the issue.
TARGET_APPENDS_8_WRITERS = 1_000
TARGET_VERIFY_EVENTS_PER_S = 100_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", type=int, default=3_000, help="appends, 1 writer")
    parser.add_argument("--writers", type=int, default=8, help="concurrent writers")
    parser.add_argument(
        "--per-writer", type=int, default=1_000, help="appends per concurrent writer"
    )
    parser.add_argument(
        "--verify-events", type=int, default=100_000, help="chain length to verify"
    )
    parser.add_argument(
        "--fill-batch", type=int, default=10_000, help="appends per fill transaction"
    )
    parser.add_argument(
        "--verify-runs", type=int, default=3, help="timed audit_chain_verify runs"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile audit_chain_verify()"
    )
    return parser.parse_args()


# --- Scratch database -------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql", "postgis"}:
        sys.exit(f"bench_audit needs a PostgreSQL DATABASE_URL, got {parts.scheme!r}")
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
    # wraps every cursor to time and record each query, which production does not
    # do; switch that off so the figures are those of a production process.
    settings.DEBUG = False

    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- Workload ---------------------------------------------------------------------


def append(i: int) -> None:
    from audit.services import audit_record

    audit_record(
        actor=None,
        actor_text="bench",
        action="model.version_approved",
        target_type="models_registry.modelversion",
        target_id=str(i),
        target_text=f"credit-scoring v{i}",
        scope="credit-scoring",
        payload={
            "model": "credit-scoring",
            "version": i,
            "diff": {"status": ["draft", "approved"]},
        },
    )


def bench_single_writer(count: int) -> float:
    """Plain audit_record calls outside any atomic block: one transaction each."""
    from django.db import connection

    connection.ensure_connection()
    start = time.perf_counter()
    for i in range(count):
        append(i)
    return time.perf_counter() - start


def _writer_process(worker: int, per_writer: int, barrier, failures) -> None:
    from django.db import connection

    try:
        # Connect before the barrier so connection set-up is not timed.
        connection.ensure_connection()
        barrier.wait()
        base = 1_000_000 * (worker + 1)
        for i in range(per_writer):
            append(base + i)
    except BaseException:
        failures.value += 1
        barrier.abort()
        raise
    finally:
        connection.close()


def bench_concurrent_writers(writers: int, per_writer: int) -> float:
    """Separate processes, as gunicorn and Celery workers are: no shared GIL."""
    from django.db import connections

    connections.close_all()  # never share a connection across fork
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(writers + 1)
    failures = context.Value("i", 0)
    processes = [
        context.Process(target=_writer_process, args=(n, per_writer, barrier, failures))
        for n in range(writers)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    start = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - start
    if failures.value or any(process.exitcode for process in processes):
        raise RuntimeError(f"{failures.value} writer(s) failed")
    return elapsed


def event_count() -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.count()


def fill_to(total: int, batch: int) -> tuple[int, float]:
    """Append events in big transactions until the chain holds ``total`` events."""
    from django.db import transaction

    have = event_count()
    missing = max(total - have, 0)
    start = time.perf_counter()
    i = have
    while i < total:
        with transaction.atomic():
            for _ in range(min(batch, total - i)):
                append(i)
                i += 1
    return missing, time.perf_counter() - start


def time_verify(runs: int):
    from audit.selectors import audit_chain_verify

    timings = []
    report = None
    for _ in range(runs):
        start = time.perf_counter()
        report = audit_chain_verify()
        timings.append(time.perf_counter() - start)
    return report, timings


def profile_verify(top: int = 25) -> str:
    from audit.selectors import audit_chain_verify

    profiler = cProfile.Profile()
    profiler.enable()
    audit_chain_verify()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# --- Report -----------------------------------------------------------------------


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def verdict(value: float, target: float) -> str:
    return "PASS" if value >= target else "FAIL"


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
    from audit.selectors import audit_chain_verify

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print(f"machine: {cores} cores ({usable} usable by this process)")
    print(f"PostgreSQL {server_version()}, Python {sys.version.split()[0]}")
    print(f"scratch database: {BENCH_DB}")
    print()

    # 1 writer.
    single_s = bench_single_writer(args.single)
    single_rate = args.single / single_s
    print(
        f"1 writer: {args.single:,} appends in {single_s:.2f} s "
        f"= {single_rate:,.0f} appends/s"
    )

    # N concurrent writers.
    concurrent_total = args.writers * args.per_writer
    concurrent_s = bench_concurrent_writers(args.writers, args.per_writer)
    concurrent_rate = concurrent_total / concurrent_s
    print(
        f"{args.writers} writers: {concurrent_total:,} appends in {concurrent_s:.2f} s"
        f" = {concurrent_rate:,.0f} appends/s"
    )

    # The chain after concurrent appends: gapless and intact.
    appended = args.single + concurrent_total
    report = audit_chain_verify()
    chain_ok = report.is_intact and report.event_count == appended
    print(
        f"chain after concurrent writers: {report.event_count:,} events "
        f"(appended {appended:,}), head #{report.head_sequence}, "
        f"intact={report.is_intact}, gapless={report.event_count == appended}"
        + ("" if chain_ok else f"  PROBLEM: {report.problem or 'count mismatch'}")
    )

    # Verify speed over a long chain.
    filled, fill_s = fill_to(args.verify_events, args.fill_batch)
    if filled:
        print(
            f"fill: {filled:,} appends in {fill_s:.1f} s "
            f"({filled / fill_s:,.0f} appends/s, {args.fill_batch:,} per transaction)"
        )
    report, timings = time_verify(args.verify_runs)
    best = min(timings)
    verify_rate = report.event_count / best
    median_rate = report.event_count / statistics.median(timings)
    runs = ", ".join(f"{t:.2f}" for t in timings)
    print(
        f"verify: {report.event_count:,} events, runs {runs} s; best "
        f"{verify_rate:,.0f} events/s, median {median_rate:,.0f} events/s, "
        f"intact={report.is_intact}"
    )
    chain_ok = chain_ok and report.is_intact
    print()

    print_table(
        [
            ("appends/s, 1 writer", f"{single_rate:,.0f}", "", ""),
            (
                f"appends/s, {args.writers} writers",
                f"{concurrent_rate:,.0f}",
                f">= {TARGET_APPENDS_8_WRITERS:,}",
                verdict(concurrent_rate, TARGET_APPENDS_8_WRITERS),
            ),
            (
                f"verify events/s over {report.event_count:,} events",
                f"{verify_rate:,.0f}",
                f">= {TARGET_VERIFY_EVENTS_PER_S:,}",
                verdict(verify_rate, TARGET_VERIFY_EVENTS_PER_S),
            ),
            (
                "chain gapless and intact",
                "yes" if chain_ok else "NO",
                "yes",
                "PASS" if chain_ok else "FAIL",
            ),
        ]
    )

    if args.profile:
        print()
        print(f"cProfile of audit_chain_verify() over {report.event_count:,} events:")
        print(profile_verify())

    # A slow figure is reported, not fatal; a broken chain is.
    return 0 if chain_ok else 1


if __name__ == "__main__":
    sys.exit(main())
