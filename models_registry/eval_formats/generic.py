"""Gatehouse's generic JSON format, for any harness (see docs/llm-evals.md):

{"harness": "my-harness", "harness_version": "1.2.0",
 "judge_model": "openai:gpt-4.1", "is_safety": false,
 "metrics": {"accuracy": 0.91, "faithfulness": 0.88},
 "cases": [{"case": "refund-1", "input": "...", "output": "...",
            "expected": "...", "passed": true, "score": 1.0,
            "metrics": {"faithfulness": 0.9}, "latency_ms": 820,
            "cost": 0.0012, "error": ""}]}
"""

from typing import Any

from models_registry.eval_formats.common import (
    FormatError,
    ImportedEvaluation,
    case,
    derived_metrics,
    metric_name,
    number,
    require,
)

_CASE_KEYS = {
    "case", "input", "output", "expected", "passed", "score", "metrics",
    "latency_ms", "cost", "error",
}  # fmt: skip
_TOP_KEYS = {
    "harness", "harness_version", "judge_model", "is_safety", "metrics", "cases",
}  # fmt: skip


def _optional_number(fields, where: str, value: Any) -> None:
    require(
        value is None or (number(value) is not None and not isinstance(value, bool)),
        fields,
        where,
        "Must be a finite number.",
    )


def parse(document: Any) -> ImportedEvaluation:
    fields: dict[str, list[str]] = {}
    if not require(isinstance(document, dict), fields, "results", "Must be an object."):
        raise FormatError(fields)
    unknown = sorted(set(document) - _TOP_KEYS)
    require(not unknown, fields, "results", f"Unknown keys: {', '.join(unknown)}.")
    harness = document.get("harness")
    require(
        isinstance(harness, str) and 0 < len(harness.strip()) <= 100,
        fields,
        "results.harness",
        "Name the harness (1 to 100 characters).",
    )
    for key, limit in (("harness_version", 100), ("judge_model", 200)):
        value = document.get(key, "")
        require(
            isinstance(value, str) and len(value) <= limit,
            fields,
            f"results.{key}",
            f"Must be text of at most {limit} characters.",
        )
    require(
        isinstance(document.get("is_safety", False), bool),
        fields,
        "results.is_safety",
        "Must be true or false.",
    )
    metrics_in = document.get("metrics", {})
    if require(
        isinstance(metrics_in, dict), fields, "results.metrics", "Must be an object."
    ):
        for name, value in metrics_in.items():
            _optional_number(fields, f"results.metrics.{name}", value)
            require(value is not None, fields, f"results.metrics.{name}", "Required.")
    rows = document.get("cases")
    if not require(
        isinstance(rows, list) and rows, fields, "results.cases", "Give the cases."
    ):
        raise FormatError(fields)
    cases = []
    for index, row in enumerate(rows):
        where = f"results.cases[{index}]"
        if not require(isinstance(row, dict), fields, where, "Must be an object."):
            continue
        extra = sorted(set(row) - _CASE_KEYS)
        require(not extra, fields, where, f"Unknown keys: {', '.join(extra)}.")
        require(
            row.get("passed") is None or isinstance(row["passed"], bool),
            fields,
            f"{where}.passed",
            "Must be true, false or null.",
        )
        for key in ("score", "latency_ms", "cost"):
            _optional_number(fields, f"{where}.{key}", row.get(key))
        case_metrics = row.get("metrics", {})
        if require(
            isinstance(case_metrics, dict),
            fields,
            f"{where}.metrics",
            "Must be an object.",
        ):
            for name, value in case_metrics.items():
                _optional_number(fields, f"{where}.metrics.{name}", value)
        else:
            case_metrics = {}
        cases.append(
            case(
                case_id=row.get("case") or index + 1,
                input_value=row.get("input"),
                output=row.get("output"),
                expected=row.get("expected"),
                passed=row.get("passed"),
                score=row.get("score"),
                metrics=case_metrics,
                latency_ms=row.get("latency_ms"),
                cost=row.get("cost"),
                error=row.get("error"),
            )
        )
    if fields:
        raise FormatError(fields)
    metrics = derived_metrics(cases)
    metrics.update({metric_name(str(k)): float(v) for k, v in metrics_in.items()})
    return ImportedEvaluation(
        harness=harness.strip(),
        harness_version=document.get("harness_version", ""),
        metrics=metrics,
        cases=cases,
        judge_model=document.get("judge_model", ""),
        is_safety=document.get("is_safety"),
    )
