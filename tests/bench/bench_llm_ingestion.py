"""Benchmark LLM call ingestion end to end on Parquet: HTTP API, validation,
storage, aggregation into the hourly windows and the review queue.

Run from the repository root::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse DEBUG=1 \\
        .venv/bin/python tests/bench/bench_llm_ingestion.py

Like ``bench_ingest.py`` (whose scratch database, gunicorn, Redis and worker
helpers it uses) it never touches the database named in DATABASE_URL: it
creates and drops ``gatehouse_bench_llm`` on the same server, starts its own
redis-server, a gunicorn serving the portal and two Celery workers.

The workload: ``--records`` call records (default 500,000) in batches of
``--batch-rows`` (default 50,000), each covering one hour: prompt version,
base model (3 of them), input and output tokens, cost, latency, finish reason,
refusal, safety flags (0.5 % of calls), two judge scores sampled on 20 % of
calls, thumbs up/down on 5 % and a comment on 1 %. Every batch is POSTed as
Parquet (batch id in the query) by ``--clients`` concurrent clients. Bodies
are encoded before the clock starts.

Printed: acknowledged records/s (all POSTs answered 202) and end to end
records/s (first POST sent to last batch applied by the workers). Target:
20,000 call records/s end to end.
"""

import argparse
import io
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from tests.bench.bench_ingest import (  # noqa: E402
    create_world,
    push_all,
    recreate_database,
    service_env,
    setup_django,
    start_web,
    wait_applied,
    with_database,
)

BENCH_DB = "gatehouse_bench_llm"
TARGET_RECORDS_PER_S = 20_000
LLM_CALLS = "/api/v1/monitoring/models/{model}/environments/production/llm-calls"
PARQUET = "application/vnd.apache.parquet"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    return parser.parse_args()


def make_bodies(records: int, batch_rows: int, version: int, prefix: str):
    """Parquet bodies of call batches (one hour each, ending two hours ago)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(5)
    count = (records + batch_rows - 1) // batch_rows
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=2
    )
    bodies = []
    for index in range(count):
        rows = min(batch_rows, records - index * batch_rows)
        start = end - timedelta(hours=count - index)
        micros = int(start.timestamp() * 1e6) + np.sort(
            rng.integers(0, 3_600_000_000, rows)
        )
        input_tokens = rng.integers(200, 4000, rows)
        output_tokens = rng.integers(20, 800, rows)
        flagged = rng.random(rows) < 0.005
        judged = rng.random(rows) < 0.2
        thumbs = rng.random(rows)
        flags = pa.array(
            [["self_harm"] if f else [] for f in flagged], type=pa.list_(pa.string())
        )
        faithfulness = np.where(judged, rng.beta(18, 2, rows), np.nan)
        relevance = np.where(judged, rng.beta(14, 2, rows), np.nan)
        table = pa.table(
            {
                "timestamp": pa.array(micros).cast(pa.timestamp("us", tz="UTC")),
                "call_id": np.char.add(
                    f"{prefix}{index}-", np.arange(rows).astype(str)
                ),
                "prompt_version": np.full(rows, version),
                "model": rng.choice(
                    ["openai:gpt-4.1", "openai:gpt-4.1-mini", "anthropic:claude"], rows
                ),
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cost": input_tokens * 2e-6 + output_tokens * 8e-6,
                "latency_ms": rng.gamma(6.0, 230.0, rows),
                "finish_reason": rng.choice(["stop", "length"], rows, p=[0.97, 0.03]),
                "refusal": rng.random(rows) < 0.02,
                "safety_flags": flags,
                "judge.faithfulness": pa.array(faithfulness, from_pandas=True),
                "judge.relevance": pa.array(relevance, from_pandas=True),
                "feedback": pa.array(
                    np.where(thumbs < 0.01, "down", np.where(thumbs < 0.05, "up", None))
                ),
                "feedback_text": pa.array(
                    np.where(thumbs < 0.01, "Not what I asked.", None)
                ),
            }
        )
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        bodies.append(buffer.getvalue())
    return bodies


def run(bodies, base_url, model, version, token, clients, prefix) -> dict:
    from monitoring.models import MonitoringWindow

    path = f"{base_url}{LLM_CALLS.format(model=model)}"
    jobs = [
        (f"{path}?batch_id={prefix}-{index}&version={version}", body, PARQUET, token)
        for index, body in enumerate(bodies)
    ]

    def counted() -> int:
        return sum(
            (stats or {}).get("calls", 0)
            for stats in MonitoringWindow.objects.values_list("llm", flat=True)
        )

    before = counted()
    started = time.monotonic()
    answers = push_all(jobs, clients)
    acknowledged = time.monotonic()
    finished = wait_applied([answer["id"] for answer in answers])
    records = sum(answer["rows"] for answer in answers)
    if counted() - before != records:
        sys.exit(f"counted {counted() - before} calls, sent {records}")
    return {
        "records": records,
        "batches": len(jobs),
        "body_mb": sum(len(body) for body in bodies) / 2**20,
        "ack_s": acknowledged - started,
        "total_s": finished - started,
    }


def main() -> None:
    args = parse_args()
    base = os.environ.get("DATABASE_URL", "")
    if not base:
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the scratch db goes there)")
    from tests.services import CeleryWorker, RedisServer, free_port

    maintenance = with_database(base, "postgres")
    bench_url = with_database(base, BENCH_DB)
    recreate_database(maintenance, BENCH_DB, create=True)
    redis = RedisServer()
    processes = []
    try:
        setup_django(bench_url, redis.url)
        model, version, token = create_world()
        print(f"preparing {args.records:,} LLM call records ...", flush=True)
        warm = make_bodies(4_000, 1_000, version, "warm")
        bodies = make_bodies(args.records, args.batch_rows, version, "c")
        env = service_env(bench_url, redis.url)
        port = free_port()
        processes.append(start_web(env, port, args.web_workers))
        os.environ.update({"DATABASE_URL": bench_url, "LOG_LEVEL": "WARNING"})
        workers = [CeleryWorker(redis_url=redis.url, extra_env=env) for _ in range(2)]
        url = f"http://127.0.0.1:{port}"
        run(warm, url, model, version, token, args.web_workers, "warm")
        result = run(bodies, url, model, version, token, args.clients, "calls")
        rate = result["records"] / result["total_s"]
        verdict = "meets" if rate >= TARGET_RECORDS_PER_S else "misses"
        print(
            f"parquet  {result['records']:>9,} call records in {result['batches']} "
            f"batches, {result['body_mb']:.1f} MB of bodies\n"
            f"         acknowledged (202): {result['ack_s']:6.1f} s = "
            f"{result['records'] / result['ack_s']:>9,.0f} records/s\n"
            f"         end to end (applied): {result['total_s']:6.1f} s = "
            f"{rate:>9,.0f} records/s\n"
            f"LLM call ingestion end to end {rate:,.0f} records/s {verdict} the "
            f"target of {TARGET_RECORDS_PER_S:,} records/s ({os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}).",
            flush=True,
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
