"""Benchmark drift evaluation of one window from stored profiles.

Run from the repository root (``make bench`` does this)::

    .venv/bin/python tests/bench/bench_drift.py

A script, not a pytest test; it needs no database. It builds reference profiles
for 50 features (40 numeric of assorted shapes, 10 categorical), then two current
windows of the same features, one holding 1,000 records and one 1,000,000, and
serialises every profile to JSON as the ingestion layer stores it. Measured, as
the median of ``--runs`` runs:

* stored dicts -> ``profile_from_dict`` -> ``evaluate_window`` (the Celery check);
* the same starting from the JSON text (``json.loads`` included);

for both windows, to show that the cost does not depend on the window's volume.
Target from the issue: under 100 ms per evaluation. Profiling time (raw values ->
profiles) is printed too, for information.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from gatehouse_client.profile import (  # noqa: E402
    CategoricalProfile,
    NumericProfile,
    profile_from_dict,
)

from monitoring.drift import evaluate_window  # noqa: E402

TARGET_MS = 100.0
N_NUMERIC = 40
N_CATEGORICAL = 10
REFERENCE_ROWS = 200_000


def numeric_sampler(index: int, rng: np.random.Generator, shift: float):
    shape = index % 4
    if shape == 0:
        return lambda n: rng.normal(shift, 1.0, n)
    if shape == 1:
        return lambda n: rng.lognormal(shift, 0.8, n)
    if shape == 2:
        return lambda n: np.where(
            rng.random(n) < 0.3, rng.normal(-2 + shift, 0.5, n), rng.normal(3, 1, n)
        )
    return lambda n: rng.integers(0, 40, n).astype(np.float64) + shift * 10


def categorical_sampler(index: int, rng: np.random.Generator, drifted: bool):
    names = np.array([f"c{index}_{k}" for k in range(5 + 3 * index)], dtype=object)
    weights = np.linspace(1.0, 3.0, names.size)
    if drifted:
        weights = weights[::-1]
    weights /= weights.sum()
    return lambda n: names[rng.choice(names.size, size=n, p=weights)]


def generate(rows: int, rng: np.random.Generator, *, drifted: bool) -> dict:
    """Raw values per feature; with ``drifted`` some features are shifted."""
    data = {}
    for index in range(N_NUMERIC):
        shift = 0.5 if (drifted and index % 5 == 0) else 0.0
        data[f"num_{index}"] = numeric_sampler(index, rng, shift)(rows)
    for index in range(N_CATEGORICAL):
        sampler = categorical_sampler(index, rng, drifted and index % 4 == 0)
        data[f"cat_{index}"] = sampler(rows)
    return data


def build_profiles(data: dict, reference: dict | None = None) -> dict:
    profiles = {}
    for name, values in data.items():
        numeric = name.startswith("num_")
        if reference is None:
            kind = NumericProfile if numeric else CategoricalProfile
            profiles[name] = kind.from_reference(values)
        elif numeric:
            profiles[name] = NumericProfile.from_values(values, reference[name].bins)
        else:
            categories = reference[name].categories
            profiles[name] = CategoricalProfile.from_values(values, categories)
    return profiles


def median_ms(function, runs: int) -> tuple[float, float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(0.95 * (len(timings) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(2024)

    reference_data = generate(REFERENCE_ROWS, rng, drifted=False)
    started = time.perf_counter()
    reference = build_profiles(reference_data)
    elapsed = time.perf_counter() - started
    print(
        f"reference profiles (bins fitted): {N_NUMERIC} numeric + {N_CATEGORICAL} "
        f"categorical features from {REFERENCE_ROWS:,} rows in {elapsed:.2f} s"
    )
    stored_reference = json.dumps({name: p.to_dict() for name, p in reference.items()})

    rows_out = []
    ok = True
    for rows in (1_000, 1_000_000):
        current_data = generate(rows, rng, drifted=True)
        started = time.perf_counter()
        current = build_profiles(current_data, reference)
        profiling_s = time.perf_counter() - started
        del current_data
        stored_current = json.dumps({name: p.to_dict() for name, p in current.items()})
        reference_dicts = json.loads(stored_reference)
        current_dicts = json.loads(stored_current)

        def from_dicts(reference_dicts=reference_dicts, current_dicts=current_dicts):
            ref = {
                name: profile_from_dict(data) for name, data in reference_dicts.items()
            }
            cur = {
                name: profile_from_dict(data) for name, data in current_dicts.items()
            }
            return evaluate_window(ref, cur)

        def from_json(stored_current=stored_current):
            ref = {
                name: profile_from_dict(data)
                for name, data in json.loads(stored_reference).items()
            }
            cur = {
                name: profile_from_dict(data)
                for name, data in json.loads(stored_current).items()
            }
            return evaluate_window(ref, cur)

        results = from_dicts()
        drifted = sorted(result.feature for result in results if result.drifted)
        dict_ms, dict_p95 = median_ms(from_dicts, args.runs)
        json_ms, json_p95 = median_ms(from_json, args.runs)
        ok &= dict_ms < TARGET_MS and json_ms < TARGET_MS
        rows_out.append(
            (
                rows,
                profiling_s,
                len(stored_current),
                dict_ms,
                dict_p95,
                json_ms,
                json_p95,
            )
        )
        print(
            f"window of {rows:>9,} records: {len(drifted)} of {len(results)} features "
            f"drifted: {', '.join(drifted)}"
        )

    print()
    print(f"drift evaluation of one window, 50 features, median of {args.runs} runs")
    header = (
        f"{'records':>10} | {'profile raw->':>13} | {'stored':>8} | "
        f"{'dicts->verdicts':>16} | {'p95':>7} | {'JSON->verdicts':>15} | {'p95':>7}"
    )
    print(header)
    print("-" * len(header))
    for rows, profiling_s, size, dict_ms, dict_p95, json_ms, json_p95 in rows_out:
        print(
            f"{rows:>10,} | {profiling_s * 1000:>10.1f} ms | {size / 1024:>5.0f} KB | "
            f"{dict_ms:>13.2f} ms | {dict_p95:>4.1f} ms | {json_ms:>12.2f} ms | "
            f"{json_p95:>4.1f} ms"
        )
    verdict = "MET" if ok else "MISSED"
    print(f"target: under {TARGET_MS:.0f} ms per evaluation -> {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
