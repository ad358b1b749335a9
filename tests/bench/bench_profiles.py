"""Profiles built where the data lives (issue #15): how fast, how much memory.

Run by hand (not in the suite). Each measurement runs in its own process so
that its peak memory is its own:

    .venv/bin/python tests/bench/bench_profiles.py generate --rows 10000000 \\
        --out /tmp/ghp
    .venv/bin/python tests/bench/bench_profiles.py pandas  --data /tmp/ghp
    .venv/bin/python tests/bench/bench_profiles.py spark   --data /tmp/ghp
    .venv/bin/python tests/bench/bench_profiles.py whylogs --data /tmp/ghp \\
        --whylogs-python /tmp/whylogs-venv/bin/python
    .venv/bin/python tests/bench/bench_profiles.py all --rows 1000000,10000000

``generate`` writes N rows x 20 numeric + 2 categorical features (plus
timestamp, score and latency) in Parquet partitioned by date (Hive style),
spread over 4 days (96 hourly windows), 1M rows per file. ``pandas`` reads it
a record batch at a time (``--batch-rows``) and profiles each with
``profile_pandas``; ``spark`` runs ``profile_spark`` on ``spark.read.parquet``
in local[2]; ``whylogs`` runs whylogs 1.x (``why.log(pandas=chunk)``, merged)
in its own virtualenv on the same files. Peak memory is the largest resident
set of the process and all its children (the JVM and Spark's Python
workers), sampled every 100 ms from /proc. The portal side (profiles ingested
per second, the drift check of a window fed by profiles) is measured by
``tests/bench/bench_profiles_portal.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

NUMERIC = [f"x{index:02d}" for index in range(20)]
CATEGORICAL = ["merchant_type", "country"]
DAYS = 4
FILE_ROWS = 1_000_000
START = np.datetime64("2026-01-01T00:00:00", "us")
MERCHANTS = [f"m{index:03d}" for index in range(300)]
COUNTRIES = [f"c{index:02d}" for index in range(60)]
# Arrow reads ahead 4 files x 16 batches by default: gigabytes with 1M-row
# batches. One batch ahead keeps memory at about two batches.
READAHEAD = {"fragment_readahead": 1, "batch_readahead": 1}


# -- data ------------------------------------------------------------------------


def chunk_table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    micros = rng.integers(0, DAYS * 86_400 * 1_000_000, rows)
    micros.sort()
    columns: dict[str, pa.Array] = {
        "timestamp": pa.array(
            START + micros.astype("timedelta64[us]"), pa.timestamp("us", tz="UTC")
        ),
    }
    for index, name in enumerate(NUMERIC):
        values = rng.normal(index * 10.0, 1.0 + index, rows)
        values[rng.random(rows) < 0.01] = np.nan
        columns[name] = pa.array(values)
    weights = 1.0 / np.arange(1, len(MERCHANTS) + 1)
    columns["merchant_type"] = pa.DictionaryArray.from_arrays(
        rng.choice(len(MERCHANTS), rows, p=weights / weights.sum()).astype("int32"),
        pa.array(MERCHANTS),
    )
    columns["country"] = pa.DictionaryArray.from_arrays(
        rng.integers(0, len(COUNTRIES), rows).astype("int32"), pa.array(COUNTRIES)
    )
    columns["score"] = pa.array(rng.random(rows))
    columns["latency_ms"] = pa.array(rng.gamma(2.0, 20.0, rows))
    table = pa.table(columns)
    dates = pa.compute.strftime(table["timestamp"], format="%Y-%m-%d")
    return table.append_column("date", dates)


def generate(rows: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if (out / "_SUCCESS").exists() and json.loads((out / "_SUCCESS").read_text())[
        "rows"
    ] == rows:
        print(f"{out}: {rows:,} rows already there")
        return
    started = time.perf_counter()
    written = 0
    part = 0
    while written < rows:
        size = min(FILE_ROWS, rows - written)
        table = chunk_table(size, seed=part)
        ds.write_dataset(
            table,
            out,
            format="parquet",
            partitioning=ds.partitioning(
                pa.schema([("date", pa.string())]), flavor="hive"
            ),
            basename_template=f"part-{part:05d}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
        written += size
        part += 1
    size = sum(path.stat().st_size for path in out.rglob("*.parquet"))
    (out / "_SUCCESS").write_text(json.dumps({"rows": rows, "bytes": size}))
    print(
        f"generated {rows:,} rows x {len(NUMERIC)} numeric + {len(CATEGORICAL)} "
        f"categorical in {time.perf_counter() - started:.0f} s: "
        f"{size / 1e9:.2f} GB Parquet"
    )


def reference_spec(data: Path):
    """The spec of a version whose reference is a 100k-row sample of the data."""
    from gatehouse_client.profile import (
        CategoricalProfile,
        NumericProfile,
        ProfileSpec,
    )

    sample = chunk_table(100_000, seed=10_000)
    features = {
        name: NumericProfile.from_reference(sample[name].to_numpy(zero_copy_only=False))
        for name in NUMERIC
    }
    for name in CATEGORICAL:
        features[name] = CategoricalProfile.from_reference(
            sample[name].cast(pa.string()).to_pylist()
        )
    return ProfileSpec(
        features=features, task="binary_classification", version=1, reference=1
    )


def dataset_rows(data: Path) -> int:
    return json.loads((data / "_SUCCESS").read_text())["rows"]


# -- memory ------------------------------------------------------------------------


class PeakMemory:
    """The peak resident set of this process and all its descendants."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(os.getpid()))
            self._stop.wait(0.1)


def tree_rss(pid: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
        stack += children.get(current, [])
    return total


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system, reaped children included) of a process tree."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            stats[int(entry)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry))
    ticks, stack = 0, [pid]
    while stack:
        current = stack.pop()
        fields = stats.get(current)
        if fields:
            ticks += sum(int(value) for value in fields[11:15])
        stack += children.get(current, [])
    return ticks / os.sysconf("SC_CLK_TCK")


def report(
    name: str,
    rows: int,
    seconds: float,
    peak: int,
    windows,
    extra: str = "",
    cpu: float | None = None,
) -> dict:
    result = {
        "engine": name,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "cpu_seconds": None if cpu is None else round(cpu, 1),
        "rows_per_cpu_second": None if not cpu else round(rows / cpu),
        "peak_memory_mb": round(peak / 2**20),
        "windows": len(windows) if windows is not None else None,
    }
    print(json.dumps(result) + (f"  # {extra}" if extra else ""))
    return result


# -- engines -------------------------------------------------------------------------


def run_pandas(data: Path, batch_rows: int) -> dict:
    from gatehouse_client.frames import profile_pandas
    from gatehouse_client.profile import merge_windows

    spec = reference_spec(data)
    rows = dataset_rows(data)
    dataset = ds.dataset(data, format="parquet", partitioning="hive")
    columns = ["timestamp", "score", "latency_ms", *NUMERIC, *CATEGORICAL]
    with PeakMemory() as memory:
        started, cpu = time.perf_counter(), time.process_time()
        windows = []
        batches = dataset.to_batches(
            columns=columns, batch_size=batch_rows, **READAHEAD
        )
        for batch in batches:
            windows = merge_windows(
                [*windows, *profile_pandas(batch.to_pandas(), spec)]
            )
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    assert sum(window.rows for window in windows) == rows
    return report(
        "pandas",
        rows,
        seconds,
        memory.peak,
        windows,
        f"chunks of {batch_rows:,}",
        cpu=cpu,
    )


def run_spark(data: Path, cores: int) -> dict:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    from gatehouse_client.spark import profile_spark
    from pyspark.sql import SparkSession

    spec = reference_spec(data)
    rows = dataset_rows(data)
    with PeakMemory() as memory:
        started = time.perf_counter()
        spark = (
            SparkSession.builder.master(f"local[{cores}]")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "2g")
            .config("spark.sql.shuffle.partitions", str(cores))
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        session_seconds = time.perf_counter() - started
        started, cpu = time.perf_counter(), tree_cpu(os.getpid())
        windows = profile_spark(spark.read.parquet(str(data)), spec)
        seconds = time.perf_counter() - started
        # The JVM and Spark's Python workers are this process's descendants.
        cpu = tree_cpu(os.getpid()) - cpu
        spark.stop()
    assert sum(window.rows for window in windows) == rows
    return report(
        f"spark local[{cores}]",
        rows,
        seconds,
        memory.peak,
        windows,
        f"session start {session_seconds:.1f} s not counted",
        cpu=cpu,
    )


WHYLOGS_SCRIPT = r"""
import json, sys, time, resource
import pyarrow.dataset as ds
import whylogs as why
data, batch_rows, columns = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
dataset = ds.dataset(data, format="parquet", partitioning="hive")
started, cpu = time.perf_counter(), time.process_time()
view, rows = None, 0
for batch in dataset.to_batches(columns=columns, batch_size=batch_rows,
                                fragment_readahead=1, batch_readahead=1):
    frame = batch.to_pandas()
    rows += len(frame)
    profile = why.log(pandas=frame).profile().view()
    view = profile if view is None else view.merge(profile)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"rows": rows, "seconds": seconds, "cpu": cpu,
                  "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "columns": len(view.get_columns())}))
"""


def run_whylogs(data: Path, python: str, batch_rows: int) -> dict:
    columns = ["score", "latency_ms", *NUMERIC, *CATEGORICAL]
    env = {**os.environ, "WHYLOGS_NO_ANALYTICS": "True"}
    with PeakMemory() as memory:
        answer = subprocess.run(
            [
                python,
                "-c",
                WHYLOGS_SCRIPT,
                str(data),
                str(batch_rows),
                ",".join(columns),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    result = json.loads(answer.stdout.strip().splitlines()[-1])
    return report(
        "whylogs "
        + subprocess.run(
            [python, "-c", "import whylogs; print(whylogs.__version__)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip(),
        result["rows"],
        result["seconds"],
        max(memory.peak, result["maxrss"]),
        None,
        f"one profile of the dataset (no hourly windows), chunks of {batch_rows:,}",
        cpu=result["cpu"],
    )


# -- driver ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "command", choices=["generate", "pandas", "spark", "whylogs", "all"]
    )
    parser.add_argument(
        "--rows", default="1000000", help="rows (all: comma-separated sizes)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("/tmp/gatehouse-profiles-bench"),  # noqa: S108
    )
    parser.add_argument("--data", type=Path)
    parser.add_argument("--batch-rows", type=int, default=1_000_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--whylogs-python",
        default="/tmp/whylogs-venv/bin/python",  # noqa: S108
    )
    parser.add_argument(
        "--skip", default="", help="all: engines to skip, comma-separated"
    )
    args = parser.parse_args()
    if args.command == "generate":
        generate(int(args.rows), args.out)
    elif args.command == "pandas":
        run_pandas(args.data, args.batch_rows)
    elif args.command == "spark":
        run_spark(args.data, args.cores)
    elif args.command == "whylogs":
        run_whylogs(args.data, args.whylogs_python, args.batch_rows)
    else:
        skip = set(args.skip.split(",")) - {""}
        for size in (int(value) for value in args.rows.split(",")):
            data = args.out / f"rows-{size}"
            generate(size, data)
            for engine in ("pandas", "spark", "whylogs"):
                if engine in skip:
                    continue
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        engine,
                        "--data",
                        str(data),
                        "--batch-rows",
                        str(args.batch_rows),
                        "--cores",
                        str(args.cores),
                        "--whylogs-python",
                        args.whylogs_python,
                    ],
                    check=False,
                )


if __name__ == "__main__":
    main()
