"""MLflow's ``mlflow.genai.evaluate`` results, exported as JSON:

    {"mlflow_version": mlflow.__version__, "run_id": result.run_id,
     "metrics": result.metrics,
     "result_df": json.loads(result.result_df.drop(columns=["trace", "spans"])
                             .to_json(orient="records", default_handler=str))}

Scorer values are the ``<scorer>/value`` columns; ``expected_response`` is the
expectation.
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

_EXPECTATION = "expected_response/value"


def _verdicts(row: dict[str, Any]) -> dict[str, float]:
    values = {}
    for column, value in row.items():
        if column.endswith("/value") and column != _EXPECTATION:
            if isinstance(value, str) and value.lower() in ("yes", "no"):
                value = value.lower() == "yes"
            converted = number(value)
            if converted is not None:
                values[column] = converted
    return values


def parse(document: Any) -> ImportedEvaluation:
    fields: dict[str, list[str]] = {}
    if not require(isinstance(document, dict), fields, "results", "Must be an object."):
        raise FormatError(fields)
    rows = document.get("result_df")
    metrics_in = document.get("metrics")
    require(
        isinstance(rows, list),
        fields,
        "results.result_df",
        "Not an MLflow genai.evaluate export: no “result_df” list of rows.",
    )
    require(
        isinstance(metrics_in, dict),
        fields,
        "results.metrics",
        "Must be the evaluation's metrics object (result.metrics).",
    )
    if fields:
        raise FormatError(fields)
    cases = []
    for index, row in enumerate(rows):
        if not require(
            isinstance(row, dict),
            fields,
            f"results.result_df[{index}]",
            "Not an object.",
        ):
            continue
        verdicts = _verdicts(row)
        cases.append(
            case(
                case_id=row.get("trace_id") or index + 1,
                input_value=row.get("request"),
                output=row.get("response"),
                expected=row.get(_EXPECTATION),
                # Scorers judge aspects (correct, refused, ...); no one verdict
                # is "passed", so the scorer means are the metrics.
                passed=None,
                metrics=verdicts,
                latency_ms=row.get("execution_duration"),
                error=None if row.get("state") in (None, "OK") else row.get("state"),
            )
        )
    for name, value in metrics_in.items():
        require(
            number(value) is not None and not isinstance(value, bool),
            fields,
            f"results.metrics.{name}",
            "Must be a finite number.",
        )
    if fields:
        raise FormatError(fields)
    metrics = derived_metrics(cases)
    metrics.update({metric_name(str(k)): float(v) for k, v in metrics_in.items()})
    return ImportedEvaluation(
        harness="mlflow.genai.evaluate",
        harness_version=str(document.get("mlflow_version") or ""),
        metrics=metrics,
        cases=cases,
    )
