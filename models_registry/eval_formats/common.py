"""What every importer returns, and the rules they share: metric names, case
shape, size bounds and errors."""

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from models_registry.validation import is_finite_number

# Per-case results are stored with the evaluation, so they are bounded: a
# document beyond either bound is refused whole (400), nothing is stored.
MAX_CASES = 5000
MAX_CASES_BYTES = 2_000_000
# Each stored text (input, output, expected, error) is cut to this length.
MAX_TEXT = 4000

_METRIC_NAME = re.compile(r"[^a-z0-9_]+")


class FormatError(Exception):
    """The document is not what its format says; ``fields`` name where."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in fields.items()))
        self.fields = fields


@dataclass
class ImportedEvaluation:
    harness: str
    harness_version: str
    metrics: dict[str, float]
    cases: list[dict[str, Any]]
    judge_model: str = ""
    # None: the document does not say; the caller decides.
    is_safety: bool | None = None
    problems: dict[str, list[str]] = field(default_factory=dict)


def metric_name(raw: str) -> str:
    """``"Answer Relevance/mean"`` -> ``"answer_relevance"``."""
    text = raw.strip().lower()
    for suffix in ("/mean", "/value"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return _METRIC_NAME.sub("_", text).strip("_")[:100]


def text(value: Any) -> str:
    """A case's input or output as text: strings as they are, anything else as
    JSON (cut to MAX_TEXT)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return value[:MAX_TEXT]


def number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    return float(value) if is_finite_number(value) else None


def case(
    *,
    case_id: str,
    input_value: Any,
    output: Any,
    expected: Any = None,
    passed: bool | None = None,
    score: Any = None,
    metrics: dict[str, Any] | None = None,
    latency_ms: Any = None,
    cost: Any = None,
    error: Any = None,
) -> dict[str, Any]:
    """One per-case result in the stored shape."""
    clean = {}
    for name, value in (metrics or {}).items():
        converted = number(value)
        if converted is not None and metric_name(str(name)):
            clean[metric_name(str(name))] = converted
    return {
        "case": text(case_id)[:200],
        "input": text(input_value),
        "output": text(output),
        "expected": text(expected),
        "passed": passed if isinstance(passed, bool) else None,
        "score": number(score),
        "metrics": clean,
        "latency_ms": number(latency_ms),
        "cost": number(cost),
        "error": text(error),
    }


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


# Derived metrics that are amounts of US dollars (harnesses report cost in USD).
COST_METRICS = frozenset({"cost_per_case"})


def derived_metrics(cases: list[dict[str, Any]]) -> dict[str, float]:
    """What the cases say whatever the harness: pass rate, mean latency and
    cost per case, and the mean of each per-case metric."""
    metrics: dict[str, float] = {}
    judged = [c["passed"] for c in cases if c["passed"] is not None]
    if judged:
        metrics["pass_rate"] = sum(judged) / len(judged)
    for key, name in (("latency_ms", "latency_ms_per_case"), ("cost", "cost_per_case")):
        value = mean([c[key] for c in cases if c[key] is not None])
        if value is not None:
            metrics[name] = value
    names = sorted({name for c in cases for name in c["metrics"]})
    for name in names:
        value = mean([c["metrics"][name] for c in cases if name in c["metrics"]])
        if value is not None:
            metrics[name] = value
    return metrics


def cases_size_problems(cases: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """The stored size of the cases, and why they are too big (if they are)."""
    if len(cases) > MAX_CASES:
        return 0, [
            f"{len(cases)} cases: at most {MAX_CASES} per-case results are stored; "
            "split the run or import a sample."
        ]
    size = len(canonical(cases).encode())
    if size > MAX_CASES_BYTES:
        return size, [
            f"The per-case results take {size:,} bytes; at most "
            f"{MAX_CASES_BYTES:,} are stored. Shorten outputs or split the run."
        ]
    return size, []


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical(value).encode()).hexdigest()


def cases_sha256(cases: list[dict[str, Any]]) -> str:
    """The identity of the eval set: its inputs and expected answers, in order."""
    return sha256_of([[c["input"], c["expected"]] for c in cases])


def require(condition: bool, fields: dict[str, list[str]], where: str, message: str):
    if not condition:
        fields.setdefault(where, []).append(message)
    return condition
