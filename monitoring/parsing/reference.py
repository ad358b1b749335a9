"""Parsing a reference sample: the feature columns of a version (and
optionally ``score``), as JSON or Parquet."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from monitoring.errors import BatchInvalid
from monitoring.parsing.batches import (
    arrow_columns,
    check_parquet_magic,
    read_parquet_table,
    rows_to_columns,
)
from monitoring.parsing.bodies import parse_json_body
from monitoring.parsing.columns import ColumnError, JsonColumn
from monitoring.parsing.schema import (
    FEATURE_PREFIX,
    JSON_ROWS,
    NUMERIC,
    Limits,
    Problems,
    Schema,
    check_rows,
)


def parse_reference(
    body: bytes, *, is_parquet: bool, schema: Schema, limits: Limits
) -> pa.Table:
    """A reference sample: the feature columns (and optionally ``score``).

    JSON: ``{"records": [...]}`` or ``{"columns": {...}}``; other keys are
    refused. Returns the normalised table (features as ``f:<name>``, ``score``).
    """
    reference_schema = _ReferenceSchema(schema)
    if is_parquet:
        check_parquet_magic(body)
        table = read_parquet_table(body)
        check_rows(table.num_rows, limits)
        columns = arrow_columns(table)
    else:
        layout, document = parse_json_body(body, max_rows=limits.max_rows)
        if set(document) - {"records", "columns"}:
            raise BatchInvalid(
                "The reference sample was refused.",
                fields={"body": ["Only records or columns."]},
            )
        if layout == JSON_ROWS:
            raw = rows_to_columns(document["records"], limits)
        else:
            raw = document["columns"]
            if not isinstance(raw, dict) or not all(
                isinstance(values, list) for values in raw.values()
            ):
                raise BatchInvalid(
                    "The reference sample was refused.",
                    fields={"columns": ["An object mapping column names to arrays."]},
                )
            lengths = {len(values) for values in raw.values()}
            if len(lengths) != 1:
                raise BatchInvalid(
                    "The columns differ in length.",
                    fields={"columns": ["Every column needs the same length."]},
                )
            check_rows(lengths.pop(), limits)
        columns = {name: JsonColumn(values) for name, values in raw.items()}
    return reference_schema.normalise(columns)


class _ReferenceSchema:
    def __init__(self, schema: Schema):
        self.schema = schema

    def normalise(self, columns: dict[str, Any]) -> pa.Table:
        problems = Problems()
        features = dict(self.schema.features)
        for name in columns:
            if name not in features and name != "score":
                problems.add(name, "Unknown column: not in the feature spec.")
        for name in features:
            if name not in columns:
                problems.add(name, "Feature column missing.")
        problems.raise_if_any("The reference sample was refused.")
        arrays = {}
        for name, kind in self.schema.features:
            try:
                column = columns[name]
                arrays[FEATURE_PREFIX + name] = (
                    column.numbers() if kind == NUMERIC else column.texts()
                )
            except ColumnError as error:
                problems.add(name, error.message)
        if "score" in columns:
            try:
                arrays["score"] = columns["score"].numbers()
            except ColumnError as error:
                problems.add("score", error.message)
        problems.raise_if_any("The reference sample was refused.")
        for name, kind in self.schema.features:
            array = arrays[FEATURE_PREFIX + name]
            if array.null_count == len(array):
                problems.add(name, "Every value is missing: nothing to compare with.")
            elif kind == NUMERIC and len(array) - array.null_count < 2:
                problems.add(name, "At least two values are needed.")
        problems.raise_if_any("The reference sample was refused.")
        return pa.table(arrays)
