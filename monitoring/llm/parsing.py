"""Reading a batch of LLM call records, JSON (rows or columns) or Parquet, into
one validated Arrow table. No database here.

Columns (JSON keys, Parquet column names); every problem is reported per
column, naming the rows, and nothing of a refused batch is stored:

* required: ``timestamp`` (as for predictions), ``call_id`` (unique in the
  batch), ``model`` (the base model, e.g. ``openai:gpt-4.1``),
  ``input_tokens`` and ``output_tokens`` (whole numbers >= 0), ``cost``
  (>= 0, in the team's currency) and ``latency_ms`` (>= 0). A missing value,
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
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from monitoring.errors import BatchInvalid
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
    MAX_TEXT_LENGTH,
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
MAX_FINISH_REASON = 40
MAX_FEEDBACK_TEXT = 2000
MAX_FLAGS_PER_CALL = 20
MAX_TOKENS = 100_000_000
FEEDBACK_VALUES = ("up", "down")
METRIC_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,59}$")
ROWS_SHOWN = 10

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
FLAGS_TYPE = pa.list_(pa.string())


def rows_text(rows: Iterable[int]) -> str:
    """ "Row 3" or "Rows 3, 7 and 12 more": the rows a problem is in."""
    rows = [int(row) for row in rows]
    shown = ", ".join(str(row) for row in rows[:ROWS_SHOWN])
    more = f" and {len(rows) - ROWS_SHOWN:,} more" if len(rows) > ROWS_SHOWN else ""
    return f"{'Row' if len(rows) == 1 else 'Rows'} {shown}{more}"


def _bad(mask: np.ndarray, message: str) -> None:
    rows = np.flatnonzero(mask)
    if rows.size:
        raise ColumnError(f"{rows_text(rows)}: {message}")


def _numbers(array: pa.Array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def _required(array: pa.Array) -> None:
    if array.null_count:
        _bad(np.asarray(array.is_null()), "a value is required (null or NaN).")


def _no_nul(array: pa.Array) -> None:
    if array.null_count == len(array):
        return
    found = pc.fill_null(pc.match_substring(array, "\x00"), False)
    _bad(np.asarray(found), "NUL characters are not allowed.")


def _text_lengths(array: pa.Array, low: int, high: int) -> None:
    _no_nul(array)
    lengths = pc.utf8_length(array).to_numpy(zero_copy_only=False)
    lengths = np.nan_to_num(lengths.astype(np.float64), nan=low)
    _bad(
        (lengths < low) | (lengths > high),
        f"{low} to {high:,} characters." if low else f"at most {high:,} characters.",
    )


def _tokens(column) -> pa.Array:
    array = column.numbers()
    _required(array)
    values = _numbers(array)
    _bad(values < 0, "must not be negative.")
    _bad(values != np.floor(values), "a whole number of tokens.")
    _bad(values > MAX_TOKENS, f"at most {MAX_TOKENS:,}.")
    return pa.array(values.astype(np.int64))


def _non_negative(column) -> pa.Array:
    array = column.numbers()
    _required(array)
    _bad(_numbers(array) < 0, "must not be negative.")
    return array


def _booleans(column) -> pa.Array:
    if isinstance(column, JsonColumn):
        if not column.types <= {bool, type(None)}:
            index, value = next(
                (index, value)
                for index, value in enumerate(column.values)
                if type(value) not in (bool, type(None))
            )
            raise ColumnError(
                f"Row {index}: true or false, not {describe_value(value)}."
            )
        return pa.array([bool(value) for value in column.values], type=pa.bool_())
    array = column.array
    if pa.types.is_null(array.type):
        return pa.array(np.zeros(len(array), dtype=bool))
    if not pa.types.is_boolean(array.type):
        raise ColumnError(f"Expected a boolean column, got {array.type}.")
    return pc.fill_null(array, False)


def _flags(column) -> pa.Array:
    if isinstance(column, JsonColumn):
        for index, value in enumerate(column.values):
            if value is None:
                continue
            if not isinstance(value, list) or not all(
                isinstance(item, str) for item in value
            ):
                raise ColumnError(
                    f"Row {index}: a list of category names (text), not "
                    f"{describe_value(value)}."
                )
        array = pa.array(column.values, type=FLAGS_TYPE)
    else:
        array = column.array
        if pa.types.is_null(array.type):
            return pa.nulls(len(array), FLAGS_TYPE)
        if not (
            pa.types.is_list(array.type) or pa.types.is_large_list(array.type)
        ) or not (
            pa.types.is_string(array.type.value_type)
            or pa.types.is_large_string(array.type.value_type)
        ):
            raise ColumnError(
                f"Expected a list of text column (list<string>), got {array.type}."
            )
        array = array.cast(FLAGS_TYPE)
    counts = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
    _bad(counts > MAX_FLAGS_PER_CALL, f"at most {MAX_FLAGS_PER_CALL} flags a call.")
    names = pc.list_flatten(array)
    if len(names):
        _no_nul(names)
        lengths = pc.utf8_length(names).to_numpy(zero_copy_only=False)
        if np.any((lengths < 1) | (lengths > MAX_TEXT_LENGTH)):
            parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False)
            bad = parents[(lengths < 1) | (lengths > MAX_TEXT_LENGTH)]
            raise ColumnError(
                f"{rows_text(np.unique(bad))}: a flag is a name of 1 to "
                f"{MAX_TEXT_LENGTH} characters."
            )
    return array


def _feedback(column) -> pa.Array:
    array = column.texts(integers=False)
    known = pc.or_(
        pc.is_null(array), pc.is_in(array, value_set=pa.array(FEEDBACK_VALUES))
    )
    _bad(~np.asarray(known), "up, down or null.")
    return array


def _unique_ids(ids: pa.Array) -> None:
    if pc.count_distinct(ids).as_py() == len(ids):
        return
    values = ids.to_numpy(zero_copy_only=False)
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    repeated = sorted(first[counts > 1])
    raise ColumnError(
        f"Must be unique in a batch: {values[repeated[0]]!r} is repeated."
    )


def _versions(column, expected: int) -> pa.Array:
    array = column.numbers()
    values = _numbers(array)
    present = ~np.isnan(values)
    _bad(
        present & ((values != np.floor(values)) | (values < 1)),
        "a version number (a positive integer).",
    )
    _bad(
        present & (values != expected),
        f"this batch is for version {expected}: send the calls of other "
        "versions in their own batches.",
    )
    return pa.array(np.nan_to_num(values).astype(np.int64), mask=~present)


def _read(name: str, column, *, expected_version: int, now: datetime) -> pa.Array:
    """One fixed column, checked and normalised."""
    if name == "timestamp":
        array = column.timestamps()
        _required(array)
        return array
    if name == "call_id":
        array = column.texts()
        _required(array)
        _text_lengths(array, 1, MAX_TEXT_LENGTH)
        _unique_ids(array)
        return array
    if name == "model":
        array = column.texts(integers=False)
        _required(array)
        _text_lengths(array, 1, MAX_TEXT_LENGTH)
        return array
    if name in ("input_tokens", "output_tokens"):
        return _tokens(column)
    if name in ("cost", "latency_ms"):
        return _non_negative(column)
    if name == "prompt_version":
        return _versions(column, expected_version)
    if name == "finish_reason":
        array = column.texts(integers=False)
        _text_lengths(array, 0, MAX_FINISH_REASON)
        return array
    if name == "refusal":
        return _booleans(column)
    if name == "safety_flags":
        return _flags(column)
    if name == "feedback":
        return _feedback(column)
    array = column.texts(integers=False)  # feedback_text
    _text_lengths(array, 0, MAX_FEEDBACK_TEXT)
    return array


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
            arrays[name] = _read(
                name, columns[name], expected_version=expected_version, now=now
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
