"""promptfoo's results file (``promptfoo eval -o results.json``, results
version 2 and 3): one prompt and one provider per import."""

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


def _column(row: dict[str, Any]) -> tuple[Any, Any]:
    provider = row.get("provider")
    provider_id = provider.get("id") if isinstance(provider, dict) else provider
    return row.get("promptIdx", row.get("promptId")), provider_id


def _passed(row: dict[str, Any]) -> bool | None:
    if isinstance(row.get("success"), bool):
        return row["success"]
    grading = row.get("gradingResult")
    if isinstance(grading, dict) and isinstance(grading.get("pass"), bool):
        return grading["pass"]
    return None


def parse(document: Any) -> ImportedEvaluation:
    fields: dict[str, list[str]] = {}
    if not require(isinstance(document, dict), fields, "results", "Must be an object."):
        raise FormatError(fields)
    body = document.get("results")
    if not require(
        isinstance(body, dict) and isinstance(body.get("results"), list),
        fields,
        "results.results",
        "Not a promptfoo results file: no “results.results” list "
        "(write it with promptfoo eval -o results.json).",
    ):
        raise FormatError(fields)
    rows = body["results"]
    columns = {_column(row) for row in rows if isinstance(row, dict)}
    require(
        len(columns) <= 1,
        fields,
        "results.results",
        f"{len(columns)} prompt/provider combinations: import one prompt with one "
        "provider at a time (promptfoo eval --filter-providers / one prompt).",
    )
    cases = []
    for index, row in enumerate(rows):
        if not require(
            isinstance(row, dict), fields, f"results.results[{index}]", "Not an object."
        ):
            continue
        test = row.get("testCase") if isinstance(row.get("testCase"), dict) else {}
        response = row.get("response") if isinstance(row.get("response"), dict) else {}
        grading = row.get("gradingResult")
        reason = grading.get("reason") if isinstance(grading, dict) else None
        expected = [
            f"{a.get('type')} {a.get('value')}"
            for a in test.get("assert") or []
            if isinstance(a, dict)
        ]
        cases.append(
            case(
                case_id=test.get("description") or row.get("id") or index + 1,
                input_value=row.get("vars", test.get("vars")),
                output=response.get("output"),
                expected="; ".join(expected),
                passed=_passed(row),
                score=row.get("score"),
                metrics=row.get("namedScores")
                if isinstance(row.get("namedScores"), dict)
                else {},
                latency_ms=row.get("latencyMs"),
                cost=row.get("cost", response.get("cost")),
                error=row.get("error") or (None if _passed(row) else reason),
            )
        )
    if fields:
        raise FormatError(fields)
    metadata = (
        document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    )
    config = document.get("config") if isinstance(document.get("config"), dict) else {}
    metrics = derived_metrics(cases)
    stats = body.get("stats") if isinstance(body.get("stats"), dict) else {}
    usage = stats.get("tokenUsage") if isinstance(stats.get("tokenUsage"), dict) else {}
    total_tokens = number(usage.get("total"))
    if total_tokens is not None and cases:
        metrics["tokens_per_case"] = total_tokens / len(cases)
    grader = None
    default_test = config.get("defaultTest")
    if isinstance(default_test, dict) and isinstance(default_test.get("options"), dict):
        grader = default_test["options"].get("provider")
    return ImportedEvaluation(
        harness="promptfoo",
        harness_version=str(
            metadata.get("promptfooVersion") or body.get("version") or ""
        ),
        metrics={metric_name(k): v for k, v in metrics.items()},
        cases=cases,
        judge_model=grader if isinstance(grader, str) else "",
        is_safety=True if config.get("redteam") else None,
    )
