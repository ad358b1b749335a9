"""Reading one column of an LLM call batch (decoded JSON values or a Parquet
column) into its normalised Arrow array; a bad value raises ``ColumnError``
naming its rows."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from monitoring.parsing.columns import ColumnError, JsonColumn, describe_value
from monitoring.parsing.schema import MAX_TEXT_LENGTH

MAX_FINISH_REASON = 40
MAX_FEEDBACK_TEXT = 2000
MAX_FLAGS_PER_CALL = 20
MAX_TOKENS = 100_000_000
FEEDBACK_VALUES = ("up", "down")
ROWS_SHOWN = 10
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


def read_column(name: str, column, *, expected_version: int) -> pa.Array:
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
