"""Peak memory of refusing an oversized JSON batch (issue #13, item 12).

    DEBUG=1 .venv/bin/python tests/bench/bench_ingest_memory.py

Each measurement runs in a fresh process: build a body of tiny records
(``{"a": 1}``) just under MONITORING_MAX_BODY_BYTES (64 MiB), then ask the
parser for it with the row limit (refused before parsing) and without it (the
whole document parsed first, as before). Prints the body size, the process's
peak resident memory beyond the body itself, and the time taken.
"""

import os
import subprocess
import sys

CHILD = r"""
import os, resource, sys, time, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()
from monitoring.errors import TooManyRows
from monitoring.parsing.bodies import parse_json_body
rows = int(sys.argv[2])
body = b'{"batch_id": "big", "records": [' + b",".join([b'{"a": 1}'] * rows) + b"]}"
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    if sys.argv[1] == "early":
        parse_json_body(body, max_rows=250_000)
    else:
        parse_json_body(body)
    outcome = "parsed"
except TooManyRows:
    outcome = "refused"
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(body), outcome, (peak - base) // 1024, round(seconds, 2))
"""


def main() -> None:
    rows = 6_500_000  # 6.5M records of 9 bytes: about 58 MB
    print(
        f"{'mode':8} {'body MB':>8} {'outcome':>8} {'extra peak MB':>14} {'seconds':>8}"
    )
    for mode in ("early", "parse"):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, mode, str(rows)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "DEBUG": os.environ.get("DEBUG", "1")},
        ).stdout.split()
        size, outcome, extra_mb, seconds = out
        megabytes = int(size) / 2**20
        print(f"{mode:8} {megabytes:8.1f} {outcome:>8} {extra_mb:>14} {seconds:>8}")


if __name__ == "__main__":
    main()
