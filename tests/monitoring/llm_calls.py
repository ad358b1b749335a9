"""Builders of LLM call batches for the LLM monitoring tests."""

from datetime import datetime, timedelta

LLM_CALLS = "/api/v1/monitoring/models/{model}/environments/{env}/llm-calls"
LLM_PERIOD = "/api/v1/monitoring/models/{model}/environments/{env}/llm-calls/period"


def call_rows(
    count: int,
    *,
    start: datetime,
    prefix: str = "c",
    cost: float = 0.002,
    input_tokens: int = 100,
    output_tokens: int = 50,
    latency_ms: float = 1000.0,
    flagged: dict[int, list[str]] | None = None,
    thumbs: dict[int, str] | None = None,
    refusals: set[int] = frozenset(),
    judge: dict[str, list[float | None]] | None = None,
    version: int | None = None,
) -> list[dict]:
    """``count`` calls within the hour from ``start``, all alike unless told."""
    flagged, thumbs, judge = flagged or {}, thumbs or {}, judge or {}
    rows = []
    for index in range(count):
        row = {
            "timestamp": (start + timedelta(seconds=index)).isoformat(),
            "call_id": f"{prefix}{index}",
            "model": "openai:gpt-4.1",
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cost": cost,
            "latency_ms": latency_ms,
            "finish_reason": "stop",
            "refusal": index in refusals,
            "safety_flags": flagged.get(index, []),
            "feedback": thumbs.get(index),
        }
        if version is not None:
            row["prompt_version"] = version
        scores = {
            name: values[index]
            for name, values in judge.items()
            if index < len(values) and values[index] is not None
        }
        if scores:
            row["judge_scores"] = scores
        rows.append(row)
    return rows
