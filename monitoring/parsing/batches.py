"""Parsing a batch body, JSON (rows or columns) or Parquet, into a validated
``ParsedBatch``."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from monitoring.errors import BatchInvalid
from monitoring.parsing.bodies import check_batch_id, check_version, parse_json_body
from monitoring.parsing.columns import ArrowColumn, JsonColumn, describe_value
from monitoring.parsing.normalise import normalise_columns
from monitoring.parsing.schema import (
    JSON_ROWS,
    PARQUET,
    PARQUET_MAGIC,
    Limits,
    ParsedBatch,
    Problems,
    Schema,
    check_feature_count,
    check_rows,
)


def rows_to_columns(records: Any, limits: Limits) -> dict[str, list[Any]]:
    if not isinstance(records, list):
        raise BatchInvalid(
            "The batch was refused.", fields={"records": ["A list of row objects."]}
        )
    check_rows(len(records), limits)
    names: dict[str, None] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise BatchInvalid(
                "The batch was refused.",
                fields={
                    "records": [
                        f"Row {index}: an object, not {describe_value(record)}."
                    ]
                },
            )
        if len(names) <= limits.max_features + 16:
            names.update(dict.fromkeys(record))
    return {name: [record.get(name) for record in records] for name in names}


def document_columns(
    layout: str, document: dict[str, Any], limits: Limits
) -> dict[str, list[Any]]:
    """The columns of a decoded JSON batch, rows or columns layout, checked for
    equal lengths and the row limit."""
    if layout == JSON_ROWS:
        columns = rows_to_columns(document["records"], limits)
    else:
        raw = document["columns"]
        if not isinstance(raw, dict):
            raise BatchInvalid(
                "The batch was refused.",
                fields={"columns": ["An object mapping column names to arrays."]},
            )
        problems = Problems()
        lengths = set()
        for name, values in raw.items():
            if not isinstance(values, list):
                problems.add(name, "An array of values.")
            else:
                lengths.add(len(values))
        problems.raise_if_any()
        if len(lengths) > 1:
            expected = max(
                lengths, key=lambda n: sum(len(v) == n for v in raw.values())
            )
            raise BatchInvalid(
                "The columns differ in length.",
                fields={
                    name: [f"Has {len(values)} values; the others have {expected}."]
                    for name, values in raw.items()
                    if len(values) != expected
                },
            )
        check_rows(lengths.pop() if lengths else 0, limits)
        columns = raw
    return columns


def parse_json(
    body: bytes, schema: Schema, limits: Limits, *, now: datetime
) -> ParsedBatch:
    layout, document = parse_json_body(body, max_rows=limits.max_rows)
    return parse_json_document(
        layout, document, schema, limits, now=now, body_bytes=len(body)
    )


def parse_json_document(
    layout: str,
    document: dict[str, Any],
    schema: Schema,
    limits: Limits,
    *,
    now: datetime,
    body_bytes: int,
) -> ParsedBatch:
    """Validate a decoded JSON batch (see ``parse_json_body``)."""
    batch_id = check_batch_id(document.get("batch_id"))
    version = check_version(document.get("version"))
    columns = document_columns(layout, document, limits)
    check_feature_count(list(columns), schema, limits)
    table = normalise_columns(
        {name: JsonColumn(values) for name, values in columns.items()},
        schema,
        now=now,
    )
    return ParsedBatch(
        kind=schema.kind,
        format=layout,
        batch_id=batch_id,
        version=version,
        table=table,
        body_bytes=body_bytes,
    )


def parse_parquet(
    body: bytes,
    schema: Schema,
    limits: Limits,
    *,
    batch_id: Any,
    version: Any,
    now: datetime,
) -> ParsedBatch:
    batch_id = check_batch_id(batch_id)
    version = check_version(version)
    check_parquet_magic(body)
    try:
        metadata = pq.read_metadata(io.BytesIO(body))
    except (pa.ArrowException, OSError) as error:
        raise BatchInvalid(
            "The Parquet file cannot be read.", fields={"body": [str(error)]}
        ) from error
    check_rows(metadata.num_rows, limits)
    names = list(metadata.schema.names)
    check_feature_count(names, schema, limits)
    table = read_parquet_table(body)
    if len(set(table.column_names)) != len(table.column_names):
        raise BatchInvalid(
            "The batch was refused.",
            fields={"columns": ["Column names must be unique."]},
        )
    columns = arrow_columns(table)
    normalised = normalise_columns(columns, schema, now=now)
    return ParsedBatch(
        kind=schema.kind,
        format=PARQUET,
        batch_id=batch_id,
        version=version,
        table=normalised,
        body_bytes=len(body),
    )


def check_parquet_magic(body: bytes) -> None:
    if not (body[:4] == PARQUET_MAGIC and body[-4:] == PARQUET_MAGIC):
        raise BatchInvalid(
            "The body is not an Apache Parquet file.",
            fields={"body": ["Expected a Parquet file (it starts with PAR1)."]},
        )


def read_parquet_table(body: bytes) -> pa.Table:
    try:
        return pq.read_table(io.BytesIO(body), use_threads=False)
    except (pa.ArrowException, OSError) as error:
        raise BatchInvalid(
            "The Parquet file cannot be read.", fields={"body": [str(error)]}
        ) from error


def arrow_columns(table: pa.Table) -> dict[str, ArrowColumn]:
    return {
        name: ArrowColumn(table.column(name).combine_chunks())
        for name in table.column_names
    }
