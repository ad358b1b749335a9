"""Side by side with Evidently 0.7: drift verdicts on 1,000,000 rows x 22 columns.

Evidently is not a dependency of the portal (it pins plotly<6). Install it in a
separate virtualenv, with the pins of the ``bench-evidently`` extra::

    python3.11 -m venv /work/venv-evidently
    /work/venv-evidently/bin/pip install "evidently==0.7.23" "pandas==2.3.3" \\
        "numpy==2.4.6" "scipy==1.17.1"

then, from the repository root::

    .venv/bin/python tests/bench/bench_evidently.py \\
        [--evidently-python /work/venv-evidently/bin/python] [--rows 1000000]

A script, not a pytest test. The parent process generates seeded reference and
current data (20 numeric columns of assorted shapes and 2 categorical ones, some
shifted) into a scratch directory, then runs each side in its own process:

* gatehouse (this interpreter): fit bins on the reference, profile reference and
  current, ``evaluate_window``;
* Evidently (the other interpreter; it imports nothing from this repository):
  ``Report([DataDriftPreset(), ValueDrift(column, method="jensenshannon") for the
  numeric columns])`` on the two DataFrames. For more than 1,000 rows the preset
  picks Wasserstein (normed by the reference std) for numeric columns and
  Jensen-Shannon for categorical ones, threshold 0.1: the statistics Gatehouse
  computes too, so both sides produce the same set of scores.

Each side is timed from its raw in-memory data (NumPy arrays / pandas DataFrames)
to the verdicts, and its memory is measured twice: the peak resident set during
the computation above the resident set before it (Linux ``VmHWM`` after a reset,
in the timed run) and the peak of ``tracemalloc`` (in a second run, not timed).
The table then lists each column's scores and verdicts from both sides.

Jensen-Shannon differs by definition: Evidently uses the natural logarithm and,
for numeric columns, ~22 equal-width Sturges bins over the union of both samples;
Gatehouse uses base 2 on the ~100 reference-quantile bins plus the tails. The
table converts Gatehouse's value to Evidently's base (x sqrt(ln 2)); categorical
values then agree to 1e-9, numeric ones differ by the binning (see docs/drift.md).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EVIDENTLY_PYTHON = "/work/venv-evidently/bin/python"
THRESHOLD = 0.1  # Wasserstein/std and JS, both sides' default
SPEEDUP_TARGET = 50.0
MEMORY_TARGET = 10.0

# Documented tolerances (docs/drift.md): |Gatehouse - Evidently|.
WASSERSTEIN_TOLERANCE = 0.002  # plus 0.5 % of the value
JS_CATEGORICAL_TOLERANCE = 1e-9

N_NUMERIC = 20
CATEGORIES = {
    "cat_0": [f"segment_{k}" for k in range(12)],
    "cat_1": [f"channel_{k}" for k in range(6)],
}


# -- data ------------------------------------------------------------------------


def numeric_column(index: int, rows: int, rng: np.random.Generator, current: bool):
    """Column ``num_<index>``; in the current data every fifth column moves."""
    moved = current and index % 5 == 0
    shape = index % 4
    if shape == 0:
        return rng.normal(0.5 if moved else 0.0, 1.0, rows)
    if shape == 1:
        return rng.lognormal(0.0, 1.6 if moved else 1.0, rows)
    if shape == 2:
        share = 0.6 if moved else 0.3
        return np.where(
            rng.random(rows) < share, rng.normal(-2, 0.5, rows), rng.normal(3, 1, rows)
        )
    values = rng.exponential(2.0, rows)
    if moved:
        values += 8.0  # most of the window beyond the reference range
    return values


def categorical_column(name: str, rows: int, rng: np.random.Generator, current: bool):
    size = len(CATEGORIES[name])
    weights = np.linspace(3.0, 1.0, size)
    if current and name == "cat_1":
        weights = weights[::-1].copy()
    return rng.choice(size, size=rows, p=weights / weights.sum()).astype(np.int8)


def generate(directory: Path, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for side in ("reference", "current"):
        is_current = side == "current"
        for index in range(N_NUMERIC):
            np.save(
                directory / f"{side}-num_{index}.npy",
                numeric_column(index, rows, rng, is_current),
            )
        for name in CATEGORIES:
            np.save(
                directory / f"{side}-{name}.npy",
                categorical_column(name, rows, rng, is_current),
            )


def load(directory: Path, side: str) -> dict:
    """Raw columns: float64 arrays and object arrays of category names (str)."""
    data = {}
    for index in range(N_NUMERIC):
        data[f"num_{index}"] = np.load(directory / f"{side}-num_{index}.npy")
    for name, names in CATEGORIES.items():
        codes = np.load(directory / f"{side}-{name}.npy")
        data[name] = np.array(names, dtype=object)[codes]
    return data


# -- measuring ------------------------------------------------------------------


def rss_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def measure(compute, use_tracemalloc: bool) -> dict:
    if use_tracemalloc:
        tracemalloc.start()
        started = time.perf_counter()
        scores = compute()
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {
            "seconds": elapsed,
            "tracemalloc_peak_mib": peak / 2**20,
            "scores": scores,
        }
    resettable = reset_peak_rss()
    baseline = rss_kib("VmRSS")
    started = time.perf_counter()
    scores = compute()
    elapsed = time.perf_counter() - started
    peak = rss_kib("VmHWM")
    return {
        "seconds": elapsed,
        "rss_peak_above_baseline_mib": (peak - baseline) / 1024 if resettable else None,
        "rss_baseline_mib": baseline / 1024,
        "scores": scores,
    }


# -- the two sides ------------------------------------------------------------------


def run_gatehouse(directory: Path, use_tracemalloc: bool) -> dict:
    sys.path.insert(0, str(REPO_ROOT))
    from gatehouse_client.profile import CategoricalProfile, NumericProfile

    from monitoring.drift import evaluate_window

    reference_data = load(directory, "reference")
    current_data = load(directory, "current")

    def compute():
        reference, current = {}, {}
        for name, values in reference_data.items():
            if name.startswith("num_"):
                reference[name] = NumericProfile.from_reference(values)
                current[name] = NumericProfile.from_values(
                    current_data[name], reference[name].bins
                )
            else:
                reference[name] = CategoricalProfile.from_reference(values)
                current[name] = CategoricalProfile.from_values(
                    current_data[name], reference[name].categories
                )
        results = evaluate_window(reference, current)
        return {
            result.feature: {
                "wasserstein": result.statistics.get("wasserstein")
                if result.kind == "numeric"
                else None,
                "jensenshannon": result.statistics["jensenshannon"],
                "drifted": result.drifted,
                "method": result.method,
            }
            for result in results
        }

    return measure(compute, use_tracemalloc)


def run_evidently(directory: Path, use_tracemalloc: bool) -> dict:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently import __version__ as evidently_version
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    numeric = [f"num_{index}" for index in range(N_NUMERIC)]
    categorical = list(CATEGORIES)
    reference_frame = pd.DataFrame(load(directory, "reference"))
    current_frame = pd.DataFrame(load(directory, "current"))

    def compute():
        definition = DataDefinition(
            numerical_columns=numeric, categorical_columns=categorical
        )
        report = Report(
            [DataDriftPreset()]
            + [ValueDrift(column=name, method="jensenshannon") for name in numeric]
        )
        snapshot = report.run(
            Dataset.from_pandas(current_frame, data_definition=definition),
            Dataset.from_pandas(reference_frame, data_definition=definition),
        )
        scores: dict = {name: {} for name in numeric + categorical}
        for metric in snapshot.dict()["metrics"]:
            config = metric.get("config", {})
            if not config.get("type", "").endswith("ValueDrift"):
                continue
            method = config.get("method") or ""
            key = "wasserstein" if "asserstein" in method else "jensenshannon"
            threshold = config.get("threshold") or THRESHOLD
            scores[config["column"]][key] = float(metric["value"])
            scores[config["column"]][key + "_drifted"] = (
                float(metric["value"]) >= threshold
            )
        return scores

    outcome = measure(compute, use_tracemalloc)
    outcome["version"] = evidently_version
    return outcome


# -- parent ---------------------------------------------------------------------------


def run_worker(python: str, side: str, directory: Path, use_tracemalloc: bool) -> dict:
    command = [python, __file__, "--worker", side, "--data", str(directory)]
    if use_tracemalloc:
        command.append("--tracemalloc")
    environment = dict(os.environ, PYTHONHASHSEED="0")
    completed = subprocess.run(
        command, capture_output=True, text=True, env=environment, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{side} worker failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def fmt(value, spec=".4f"):
    return "-" if value is None else format(value, spec)


def verdict(flag):
    return "-" if flag is None else ("DRIFT" if flag else "ok")


def pair(ours, theirs):
    return f"{verdict(ours)}/{verdict(theirs)}"


def ratio(numerator, denominator):
    if not numerator or not denominator:
        return None
    return numerator / denominator


def print_costs(ours, ours_memory, theirs, theirs_memory, rows) -> bool:
    print()
    print(
        f"raw data -> verdicts, {rows:,} reference + {rows:,} current rows, "
        f"{N_NUMERIC} numeric + {len(CATEGORIES)} categorical columns"
    )
    header = (
        f"{'':24} | {'wall time':>10} | {'peak RSS above data':>20} | "
        f"{'tracemalloc peak':>16}"
    )
    print(header)
    print("-" * len(header))
    sides = [("gatehouse", ours, ours_memory)]
    if theirs is not None:
        sides.append((f"evidently {theirs.get('version', '')}", theirs, theirs_memory))
    for label, timed, memory in sides:
        rss = fmt(timed.get("rss_peak_above_baseline_mib"), ".0f")
        traced = fmt(memory.get("tracemalloc_peak_mib") if memory else None, ".0f")
        seconds = timed["seconds"]
        print(f"{label:24} | {seconds:>8.2f} s | {rss:>16} MiB | {traced:>12} MiB")
    if theirs is None:
        return True
    speedup = theirs["seconds"] / ours["seconds"]
    rss_ratio = ratio(
        theirs.get("rss_peak_above_baseline_mib"),
        ours.get("rss_peak_above_baseline_mib"),
    )
    traced_ratio = ratio(
        theirs_memory and theirs_memory["tracemalloc_peak_mib"],
        ours_memory and ours_memory["tracemalloc_peak_mib"],
    )
    print(
        f"speed-up {speedup:.0f}x (target {SPEEDUP_TARGET:.0f}x); Evidently uses "
        f"{fmt(rss_ratio, '.1f')}x the memory by RSS, {fmt(traced_ratio, '.1f')}x by "
        f"tracemalloc (target {MEMORY_TARGET:.0f}x)"
    )
    memory_ok = max(rss_ratio or 0, traced_ratio or 0) >= MEMORY_TARGET
    return speedup >= SPEEDUP_TARGET and memory_ok


def print_scores(ours, theirs) -> bool:
    print()
    print(
        "Wasserstein / reference std and Jensen-Shannon distance, threshold 0.1 "
        "(JS: Gatehouse in base 2, 'gh->e' in Evidently's natural-log base)"
    )
    header = (
        f"{'column':8} | {'W gh':>8} {'W evid.':>8} {'diff':>9} {'verdicts':>11} | "
        f"{'JS gh':>7} {'JS gh->e':>8} {'JS evid.':>8} {'verdicts':>11}"
    )
    print(header)
    print("-" * len(header))
    mismatched = out_of_tolerance = 0
    for name, mine in ours["scores"].items():
        other = theirs["scores"].get(name, {}) if theirs else {}
        numeric = name.startswith("num_")
        w_ours, w_theirs = mine["wasserstein"], other.get("wasserstein")
        w_diff = None if w_ours is None or w_theirs is None else w_ours - w_theirs
        js_ours = mine["jensenshannon"]
        js_natural = js_ours * math.sqrt(math.log(2))
        js_theirs = other.get("jensenshannon")
        # The decisive statistic: Wasserstein for numeric, JS for categorical.
        decisive = other.get(
            "wasserstein_drifted" if numeric else "jensenshannon_drifted"
        )
        if decisive is not None and decisive != mine["drifted"]:
            mismatched += 1
        if (
            w_diff is not None
            and abs(w_diff) > WASSERSTEIN_TOLERANCE + 0.005 * w_theirs
        ):
            out_of_tolerance += 1
        if not numeric and js_theirs is not None:
            out_of_tolerance += abs(js_natural - js_theirs) > JS_CATEGORICAL_TOLERANCE
        w_verdicts = "-"
        if w_ours is not None:
            w_verdicts = pair(w_ours >= THRESHOLD, other.get("wasserstein_drifted"))
        js_verdicts = pair(js_ours >= THRESHOLD, other.get("jensenshannon_drifted"))
        w_columns = f"{fmt(w_ours):>8} {fmt(w_theirs):>8} {fmt(w_diff, '+.1e'):>9}"
        js_columns = f"{js_ours:>7.4f} {js_natural:>8.4f} {fmt(js_theirs):>8}"
        print(
            f"{name:8} | {w_columns} {w_verdicts:>11} | {js_columns} {js_verdicts:>11}"
        )
    if theirs is None:
        return True
    print(
        f"Gatehouse verdicts that differ from Evidently's on the decisive statistic: "
        f"{mismatched}; scores outside the documented tolerance (W: 0.002 + 0.5 %, "
        f"categorical JS: 1e-9): {out_of_tolerance}"
    )
    return mismatched == 0 and out_of_tolerance == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--evidently-python", default=DEFAULT_EVIDENTLY_PYTHON)
    parser.add_argument("--skip-evidently", action="store_true")
    parser.add_argument(
        "--skip-tracemalloc", action="store_true", help="skip the second, traced runs"
    )
    parser.add_argument(
        "--worker", choices=["gatehouse", "evidently"], help=argparse.SUPPRESS
    )
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        runner = run_gatehouse if args.worker == "gatehouse" else run_evidently
        print(json.dumps(runner(Path(args.data), args.tracemalloc)))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-evidently-") as scratch:
        directory = Path(scratch)
        started = time.perf_counter()
        generate(directory, args.rows, args.seed)
        print(f"generated data in {time.perf_counter() - started:.1f} s")
        ours = run_worker(sys.executable, "gatehouse", directory, False)
        print(f"gatehouse: {ours['seconds']:.2f} s")
        ours_memory = None
        if not args.skip_tracemalloc:
            ours_memory = run_worker(sys.executable, "gatehouse", directory, True)
        theirs = theirs_memory = None
        if not args.skip_evidently:
            if not Path(args.evidently_python).exists():
                print(f"no interpreter at {args.evidently_python}: see the docstring")
                return 2
            theirs = run_worker(args.evidently_python, "evidently", directory, False)
            print(f"evidently: {theirs['seconds']:.1f} s")
            if not args.skip_tracemalloc:
                theirs_memory = run_worker(
                    args.evidently_python, "evidently", directory, True
                )
        costs_ok = print_costs(ours, ours_memory, theirs, theirs_memory, args.rows)
        scores_ok = print_scores(ours, theirs)
    ok = costs_ok and scores_ok
    print("targets:", "MET" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
