"""Reading a batch of LLM call records, JSON (rows or columns) or Parquet, into
one validated Arrow table. No database here.

Columns (JSON keys, Parquet column names); every problem is reported per
column, naming the rows, and nothing of a refused batch is stored:

* required: ``timestamp`` (as for predictions), ``call_id`` (unique in the
  batch), ``model`` (the base model, e.g. ``openai:gpt-4.1``),
  ``input_tokens`` and ``output_tokens`` (whole numbers >= 0), ``cost``
  (>= 0, in US dollars) and ``latency_ms`` (>= 0). A missing value,
  NaN or infinity in them refuses the batch.
* optional: ``prompt_version`` (when given, the version the batch is for),
  ``finish_reason`` (text), ``refusal`` (boolean; missing is false),
  ``safety_flags`` (a list of category names; empty or missing: not flagged),
  ``feedback`` (``up``, ``down`` or missing), ``feedback_text`` (at most 2,000
  characters), and judge scores sampled online: ``judge_scores`` (an object
  per row in JSON, a struct column in Parquet) or one ``judge.<metric>``
  column per metric; a missing score means the call was not judged.

The normalised table keeps the fixed columns under their names and judge
scores as ``j:<metric>``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from monitoring.errors import BatchInvalid
from monitoring.llm.columns import FLAGS_TYPE, read_column
from monitoring.parsing.batches import (
    arrow_columns,
    check_parquet_magic,
    document_columns,
    read_parquet_table,
)
from monitoring.parsing.columns import (
    ArrowColumn,
    ColumnError,
    JsonColumn,
    describe_value,
)
from monitoring.parsing.normalise import check_times
from monitoring.parsing.schema import (
    PARQUET,
    Limits,
    ParsedBatch,
    Problems,
    check_rows,
)

LLM_CALLS = "llm_calls"
JUDGE_OBJECT = "judge_scores"
JUDGE_COLUMN_PREFIX = "judge."
JUDGE_PREFIX = "j:"
MAX_JUDGE_METRICS = 20
METRIC_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,59}$")

REQUIRED = (
    "timestamp",
    "call_id",
    "model",
    "input_tokens",
    "output_tokens",
    "cost",
    "latency_ms",
)
OPTIONAL = (
    "prompt_version",
    "finish_reason",
    "refusal",
    "safety_flags",
    "feedback",
    "feedback_text",
)


def _judge_from_objects(column: JsonColumn) -> dict[str, JsonColumn]:
    """The ``judge_scores`` objects of a JSON batch, one column per metric."""
    names: dict[str, None] = {}
    for index, value in enumerate(column.values):
        if value is None:
            continue
        if not isinstance(value, dict):
            raise ColumnError(
                f"Row {index}: an object of scores by metric, not "
                f"{describe_value(value)}."
            )
        names.update(dict.fromkeys(value))
        if len(names) > MAX_JUDGE_METRICS:
            raise ColumnError(f"At most {MAX_JUDGE_METRICS} judge metrics.")
    return {
        name: JsonColumn([(row or {}).get(name) for row in column.values])
        for name in names
    }


def _judge_from_struct(column: ArrowColumn) -> dict[str, ArrowColumn]:
    array = column.array
    if pa.types.is_null(array.type):
        return {}
    if not pa.types.is_struct(array.type):
        raise ColumnError(
            f"Expected a struct column of scores by metric, got {array.type}."
        )
    return {
        array.type.field(index).name: ArrowColumn(
            pc.struct_field(array, [index]).combine_chunks()
            if isinstance(array, pa.ChunkedArray)
            else pc.struct_field(array, [index])
        )
        for index in range(array.type.num_fields)
    }


def normalise_calls(
    columns: dict[str, Any], *, expected_version: int, now: datetime
) -> pa.Table:
    """Check every column of a call batch and build its normalised table."""
    problems = Problems()
    judge: dict[str, Any] = {}
    for name in columns:
        if name.startswith(JUDGE_COLUMN_PREFIX):
            judge[name[len(JUDGE_COLUMN_PREFIX) :]] = columns[name]
        elif name not in REQUIRED and name not in OPTIONAL and name != JUDGE_OBJECT:
            problems.add(name, "Unknown column.")
    for name in REQUIRED:
        if name not in columns:
            problems.add(name, "Required column missing.")
    problems.raise_if_any()
    if JUDGE_OBJECT in columns:
        column = columns[JUDGE_OBJECT]
        try:
            nested = (
                _judge_from_objects(column)
                if isinstance(column, JsonColumn)
                else _judge_from_struct(column)
            )
        except ColumnError as error:
            raise BatchInvalid(
                "The batch was refused.", fields={JUDGE_OBJECT: [error.message]}
            ) from error
        for metric, values in nested.items():
            if metric in judge:
                problems.add(
                    JUDGE_COLUMN_PREFIX + metric,
                    f"Sent twice: as a column and in {JUDGE_OBJECT}.",
                )
            judge[metric] = values
    for metric in judge:
        if not isinstance(metric, str) or not METRIC_NAME.match(metric):
            problems.add(
                JUDGE_COLUMN_PREFIX + str(metric)[:60],
                "A metric name: a letter, then letters, digits or _ (at most 60).",
            )
    if len(judge) > MAX_JUDGE_METRICS:
        problems.add(JUDGE_OBJECT, f"At most {MAX_JUDGE_METRICS} judge metrics.")
    problems.raise_if_any()

    arrays: dict[str, pa.Array] = {}
    for name in REQUIRED + OPTIONAL:
        if name not in columns:
            continue
        try:
            arrays[name] = read_column(
                name, columns[name], expected_version=expected_version
            )
        except ColumnError as error:
            problems.add(name, error.message)
    for metric, column in sorted(judge.items()):
        try:
            arrays[JUDGE_PREFIX + metric] = column.numbers()
        except ColumnError as error:
            problems.add(JUDGE_COLUMN_PREFIX + metric, error.message)
    if "timestamp" in arrays:
        check_times(arrays["timestamp"], now, problems)
    problems.raise_if_any()
    rows = len(arrays["timestamp"])
    if "refusal" not in arrays:
        arrays["refusal"] = pa.array(np.zeros(rows, dtype=bool))
    if "safety_flags" not in arrays:
        arrays["safety_flags"] = pa.nulls(rows, FLAGS_TYPE)
    for name in ("prompt_version",):
        arrays.setdefault(name, pa.nulls(rows, pa.int64()))
    for name in ("finish_reason", "feedback", "feedback_text"):
        arrays.setdefault(name, pa.nulls(rows, pa.string()))
    return pa.table(arrays)


def parse_calls_json(
    layout: str,
    document: dict[str, Any],
    limits: Limits,
    *,
    batch_id: str,
    version: int,
    now: datetime,
    body_bytes: int,
) -> ParsedBatch:
    """Validate a decoded JSON batch of calls (see ``parse_json_body``)."""
    raw = document_columns(layout, document, limits)
    check_rows(len(next(iter(raw.values()), [])), limits)
    _check_column_count(list(raw))
    table = normalise_calls(
        {name: JsonColumn(values) for name, values in raw.items()},
        expected_version=version,
        now=now,
    )
    return ParsedBatch(
        kind=LLM_CALLS,
        format=layout,
        batch_id=batch_id,
        version=version,
        table=table,
        body_bytes=body_bytes,
    )


def parse_calls_parquet(
    body: bytes,
    limits: Limits,
    *,
    batch_id: str,
    version: int,
    now: datetime,
) -> ParsedBatch:
    check_parquet_magic(body)
    try:
        metadata = pq.read_metadata(pa.BufferReader(body))
    except (pa.ArrowException, OSError) as error:
        raise BatchInvalid(
            "The Parquet file cannot be read.", fields={"body": [str(error)]}
        ) from error
    check_rows(metadata.num_rows, limits)
    _check_column_count(list(metadata.schema.to_arrow_schema().names))
    table = read_parquet_table(body)
    if len(set(table.column_names)) != len(table.column_names):
        raise BatchInvalid(
            "The batch was refused.",
            fields={"columns": ["Column names must be unique."]},
        )
    normalised = normalise_calls(
        arrow_columns(table), expected_version=version, now=now
    )
    return ParsedBatch(
        kind=LLM_CALLS,
        format=PARQUET,
        batch_id=batch_id,
        version=version,
        table=normalised,
        body_bytes=len(body),
    )


def _check_column_count(names: list[str]) -> None:
    limit = len(REQUIRED) + len(OPTIONAL) + 1 + MAX_JUDGE_METRICS
    if len(names) > limit:
        raise BatchInvalid(
            "The batch was refused.",
            fields={
                "columns": [
                    f"{len(names)} columns; a call batch has at most {limit} "
                    f"(at most {MAX_JUDGE_METRICS} judge metrics)."
                ]
            },
        )


def parse_calls(
    body: bytes,
    layout: str | None,
    document: dict[str, Any] | None,
    limits: Limits,
    *,
    batch_id: str,
    version: int,
    now: datetime,
) -> ParsedBatch:
    """A call batch: Parquet when ``document`` is None, else decoded JSON."""
    if document is None:
        return parse_calls_parquet(
            body, limits, batch_id=batch_id, version=version, now=now
        )
    return parse_calls_json(
        layout,
        document,
        limits,
        batch_id=batch_id,
        version=version,
        now=now,
        body_bytes=len(body),
    )
