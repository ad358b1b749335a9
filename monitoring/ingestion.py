"""Reading a monitoring batch: JSON (row or column layout) or Apache Parquet in,
one validated, normalised Arrow table out. No database here.

Columns by kind (JSON keys, Parquet column names):

* ``predictions``: ``timestamp`` (required), ``prediction_id`` (required, unique
  in the batch), one column per feature of the deployed artifact's feature spec
  (numeric: numbers; categorical: text or integers; null is a missing value),
  and optionally ``score``, ``confidence`` (0 to 1), ``prediction``,
  ``latency_ms`` (>= 0), ``label``, and one column per fairness attribute of the
  model (its segment, e.g. ``sex``).
* ``labels``: ``prediction_id`` and ``label`` (required), ``timestamp``.
* ``metrics``: ``timestamp``, ``name`` (a KPI name) and ``value`` (all required).

A timestamp is an ISO 8601 text with a UTC offset, a number of seconds since
the epoch, or (Parquet) a timestamp column with a time zone. Numbers must be
finite: NaN and infinities are refused, null is how a value is missing.

Every problem is reported per column (``fields``), naming the first bad row;
nothing of a refused batch is stored. The normalised table names features
``f:<name>`` and segments ``s:<name>`` so they never collide with the fixed
columns, and is stored as a zstd-compressed Arrow IPC stream.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from monitoring.errors import (
    BatchInvalid,
    PayloadTooLarge,
    TooManyFeatures,
    TooManyRows,
)

PREDICTIONS = "predictions"
LABELS = "labels"
METRICS = "metrics"
KINDS = (PREDICTIONS, LABELS, METRICS)

JSON_ROWS = "json_rows"
JSON_COLUMNS = "json_columns"
PARQUET = "parquet"

NUMERIC = "numeric"
CATEGORICAL = "categorical"

FEATURE_PREFIX = "f:"
SEGMENT_PREFIX = "s:"

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
PARQUET_MAGIC = b"PAR1"
BATCH_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/=+@-]{0,199}$")
MAX_TEXT_LENGTH = 200
MAX_KPI_NAME_LENGTH = 100

# Columns of each kind besides features and segments: name -> (kind, required).
_FIXED_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    PREDICTIONS: {
        "timestamp": ("timestamp", True),
        "prediction_id": ("identifier", True),
        "score": ("number", False),
        "confidence": ("unit", False),
        "prediction": ("value", False),
        "latency_ms": ("non_negative", False),
        "label": ("value", False),
    },
    LABELS: {
        "prediction_id": ("identifier", True),
        "label": ("required_value", True),
        "timestamp": ("timestamp", False),
    },
    METRICS: {
        "timestamp": ("timestamp", True),
        "name": ("kpi_name", True),
        "value": ("required_number", True),
    },
}
RESERVED_NAMES = frozenset(
    name for columns in _FIXED_COLUMNS.values() for name in columns
)

_NUMERIC_TYPES = {"numeric", "float", "double", "int", "integer", "number"}


def feature_kind(declared: str) -> str:
    """The profile kind of a feature-spec type: numeric or categorical."""
    return NUMERIC if str(declared).lower() in _NUMERIC_TYPES else CATEGORICAL


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int
    max_rows: int
    max_features: int


@dataclass(frozen=True)
class Schema:
    """What a batch of one kind may contain for one model version."""

    kind: str
    features: tuple[tuple[str, str], ...] = ()  # (name, numeric|categorical)
    segments: tuple[str, ...] = ()

    @classmethod
    def for_kind(
        cls,
        kind: str,
        feature_spec: Sequence[dict[str, Any]] = (),
        segments: Sequence[str] = (),
    ) -> Schema:
        if kind != PREDICTIONS:
            return cls(kind=kind)
        features = tuple(
            (str(item["name"]), feature_kind(item.get("type", "")))
            for item in feature_spec
            if isinstance(item, dict) and item.get("name")
        )
        names = {name for name, _ in features}
        return cls(
            kind=kind,
            features=features,
            segments=tuple(
                str(name)
                for name in segments
                if str(name) not in names and str(name) not in RESERVED_NAMES
            ),
        )


@dataclass
class ParsedBatch:
    kind: str
    format: str
    batch_id: str
    version: int | None
    table: pa.Table
    body_bytes: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def row_count(self) -> int:
        return self.table.num_rows


class _Problems:
    """Collects field errors; raises them all at once."""

    def __init__(self):
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self, message: str = "The batch was refused.") -> None:
        if self.fields:
            raise BatchInvalid(message, fields=self.fields)


# --- Bodies ------------------------------------------------------------------------


def read_body(
    stream, *, content_length: int | None, encoding: str, limit: int
) -> bytes:
    """Read at most ``limit`` bytes (after gunzip); a longer body raises 413."""
    if content_length is not None and content_length > limit and encoding != "gzip":
        raise _too_large(limit)
    raw = stream.read(limit + 1)
    if encoding == "gzip":
        decompressor = zlib.decompressobj(wbits=31)
        try:
            body = decompressor.decompress(raw, limit + 1)
        except zlib.error as error:
            raise BatchInvalid(
                "The body is not valid gzip.", fields={"body": [str(error)]}
            ) from error
        if len(body) > limit or decompressor.unconsumed_tail:
            raise _too_large(limit)
        if len(raw) > limit:
            raise _too_large(limit)
        return body
    if encoding not in ("", "identity"):
        raise BatchInvalid(
            "Unsupported Content-Encoding.",
            fields={"Content-Encoding": ["Use gzip, or none."]},
        )
    if len(raw) > limit:
        raise _too_large(limit)
    return raw


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The body is larger than the limit of {limit:,} bytes "
        "(MONITORING_MAX_BODY_BYTES): split the batch.",
        fields={"body": [f"At most {limit:,} bytes."]},
    )


def check_batch_id(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise BatchInvalid(
            "The batch was refused.",
            fields={"batch_id": ["Required: a client batch id (text)."]},
        )
    if not BATCH_ID_PATTERN.match(value):
        raise BatchInvalid(
            "The batch was refused.",
            fields={
                "batch_id": [
                    "1 to 200 characters: letters, digits and . _ : / = + @ -, "
                    "starting with a letter or digit."
                ]
            },
        )
    return value


def check_version(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BatchInvalid(
            "The batch was refused.",
            fields={"version": ["A version number (a positive integer)."]},
        )
    return value


def parse_json_body(body: bytes) -> tuple[str, dict[str, Any]]:
    """Decode a JSON batch; return its layout and the document."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BatchInvalid(
            "The body is not valid JSON.", fields={"body": [str(error)]}
        ) from error
    if not isinstance(document, dict):
        raise BatchInvalid(
            "The batch was refused.",
            fields={"body": ["A JSON object with batch_id and records or columns."]},
        )
    has_rows, has_columns = "records" in document, "columns" in document
    if has_rows == has_columns:
        raise BatchInvalid(
            "The batch was refused.",
            fields={
                "body": [
                    "Send either records (a list of row objects) or columns "
                    "(an object of equal-length arrays)."
                ]
            },
        )
    unknown = set(document) - {"batch_id", "version", "records", "columns"}
    if unknown:
        raise BatchInvalid(
            "The batch was refused.",
            fields={name: ["Unknown key."] for name in sorted(unknown)},
        )
    return (JSON_ROWS if has_rows else JSON_COLUMNS), document


def _rows_to_columns(records: Any, limits: Limits) -> dict[str, list[Any]]:
    if not isinstance(records, list):
        raise BatchInvalid(
            "The batch was refused.", fields={"records": ["A list of row objects."]}
        )
    _check_rows(len(records), limits)
    names: dict[str, None] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise BatchInvalid(
                "The batch was refused.",
                fields={"records": [f"Row {index}: an object, not {_what(record)}."]},
            )
        if len(names) <= limits.max_features + 16:
            names.update(dict.fromkeys(record))
    return {name: [record.get(name) for record in records] for name in names}


def _check_rows(count: int, limits: Limits) -> None:
    if count > limits.max_rows:
        raise TooManyRows(
            f"The batch has {count:,} rows; the limit is {limits.max_rows:,} "
            "(MONITORING_MAX_ROWS): split it.",
            fields={"rows": [f"At most {limits.max_rows:,} rows per batch."]},
        )
    if count == 0:
        raise BatchInvalid(
            "The batch was refused.", fields={"rows": ["The batch has no rows."]}
        )


def _check_feature_count(names: Sequence[str], schema: Schema, limits: Limits):
    fixed = _FIXED_COLUMNS[schema.kind]
    extra = [name for name in names if name not in fixed]
    if len(extra) > limits.max_features:
        raise TooManyFeatures(
            f"The batch has {len(extra)} feature and segment columns; the limit is "
            f"{limits.max_features} (MONITORING_MAX_FEATURES).",
            fields={"features": [f"At most {limits.max_features} feature columns."]},
        )
    if len(schema.features) > limits.max_features:
        raise TooManyFeatures(
            f"The feature spec has {len(schema.features)} features; the limit is "
            f"{limits.max_features} (MONITORING_MAX_FEATURES).",
            fields={"features": [f"At most {limits.max_features} features."]},
        )


def parse_json(
    body: bytes, schema: Schema, limits: Limits, *, now: datetime
) -> ParsedBatch:
    layout, document = parse_json_body(body)
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
    if layout == JSON_ROWS:
        columns = _rows_to_columns(document["records"], limits)
    else:
        raw = document["columns"]
        if not isinstance(raw, dict):
            raise BatchInvalid(
                "The batch was refused.",
                fields={"columns": ["An object mapping column names to arrays."]},
            )
        problems = _Problems()
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
        _check_rows(lengths.pop() if lengths else 0, limits)
        columns = raw
    _check_feature_count(list(columns), schema, limits)
    table = _normalise(
        {name: _JsonColumn(values) for name, values in columns.items()},
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
    if not (body[:4] == PARQUET_MAGIC and body[-4:] == PARQUET_MAGIC):
        raise BatchInvalid(
            "The body is not an Apache Parquet file.",
            fields={"body": ["Expected a Parquet file (it starts with PAR1)."]},
        )
    try:
        metadata = pq.read_metadata(io.BytesIO(body))
    except (pa.ArrowException, OSError) as error:
        raise BatchInvalid(
            "The Parquet file cannot be read.", fields={"body": [str(error)]}
        ) from error
    _check_rows(metadata.num_rows, limits)
    names = list(metadata.schema.names)
    _check_feature_count(names, schema, limits)
    try:
        table = pq.read_table(io.BytesIO(body), use_threads=False)
    except (pa.ArrowException, OSError) as error:
        raise BatchInvalid(
            "The Parquet file cannot be read.", fields={"body": [str(error)]}
        ) from error
    if len(set(table.column_names)) != len(table.column_names):
        raise BatchInvalid(
            "The batch was refused.",
            fields={"columns": ["Column names must be unique."]},
        )
    columns = {
        name: _ArrowColumn(table.column(name).combine_chunks())
        for name in table.column_names
    }
    normalised = _normalise(columns, schema, now=now)
    return ParsedBatch(
        kind=schema.kind,
        format=PARQUET,
        batch_id=batch_id,
        version=version,
        table=normalised,
        body_bytes=len(body),
    )


# --- Columns -----------------------------------------------------------------------


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _ColumnError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _JsonColumn:
    """A column of decoded JSON values (Python objects)."""

    def __init__(self, values: list[Any]):
        self.values = values
        self.types = set(map(type, values))

    def _first(self, bad) -> tuple[int, Any]:
        for index, value in enumerate(self.values):
            if bad(value):
                return index, value
        raise AssertionError("no bad value")  # pragma: no cover

    def _null_mask(self) -> np.ndarray | None:
        if type(None) not in self.types:
            return None
        return np.fromiter(
            (value is None for value in self.values), bool, len(self.values)
        )

    def numbers(self) -> pa.Array:
        allowed = {int, float, type(None)}
        if not self.types <= allowed:
            index, value = self._first(
                lambda v: type(v) not in allowed  # bool is not a number here
            )
            raise _ColumnError(f"Row {index}: expected a number, got {_what(value)}.")
        mask = self._null_mask()
        if mask is None:
            array = np.asarray(self.values, dtype=np.float64)
        else:
            array = np.asarray(
                [np.nan if v is None else v for v in self.values], dtype=np.float64
            )
        bad = ~np.isfinite(array)
        if mask is not None:
            bad &= ~mask
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise _ColumnError(
                f"Row {index}: {self.values[index]!r} is not a finite number."
            )
        return pa.array(array, mask=mask)

    def texts(self, *, integers: bool = True) -> pa.Array:
        allowed = {str, type(None)} | ({int} if integers else set())
        if not self.types <= allowed:
            index, value = self._first(lambda v: type(v) not in allowed)
            expected = "text or an integer" if integers else "text"
            raise _ColumnError(f"Row {index}: expected {expected}, got {_what(value)}.")
        if int in self.types:
            values = [
                v if v is None or isinstance(v, str) else str(v) for v in self.values
            ]
        else:
            values = self.values
        return pa.array(values, type=pa.string())

    def values_(self) -> pa.Array:
        """Numbers (float64) if every value is a number, else text."""
        if self.types <= {int, float, type(None)}:
            return self.numbers()
        if self.types <= {str, type(None)}:
            return self.texts(integers=False)
        raise _ColumnError(
            "Expected all numbers or all text (null allowed), got a mix or other types."
        )

    def timestamps(self) -> pa.Array:
        if self.types <= {int, float, type(None)}:
            return _epoch_seconds(self.numbers())
        if self.types <= {str, type(None)}:
            return _parse_iso(pa.array(self.values, type=pa.string()))
        index, value = self._first(lambda v: type(v) not in (str, int, float))
        raise _ColumnError(
            f"Row {index}: expected an ISO 8601 time with a UTC offset or epoch "
            f"seconds, got {_what(value)}."
        )


class _ArrowColumn:
    """A column of a Parquet file."""

    def __init__(self, array: pa.Array):
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        self.array = array
        self.type = array.type

    def _is_number(self) -> bool:
        return pa.types.is_integer(self.type) or pa.types.is_floating(self.type)

    def _is_text(self) -> bool:
        return pa.types.is_string(self.type) or pa.types.is_large_string(self.type)

    def numbers(self) -> pa.Array:
        if pa.types.is_null(self.type):
            return pa.nulls(len(self.array), pa.float64())
        if not self._is_number():
            raise _ColumnError(f"Expected a numeric column, got {self.type}.")
        try:
            array = self.array.cast(pa.float64())
        except pa.ArrowInvalid as error:
            raise _ColumnError(str(error)) from error
        values = array.to_numpy(zero_copy_only=False)
        bad = ~np.isfinite(values)
        if array.null_count:
            bad &= ~np.asarray(array.is_null())
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise _ColumnError(
                f"Row {index}: {float(values[index])!r} is not a finite number."
            )
        return array

    def texts(self, *, integers: bool = True) -> pa.Array:
        if pa.types.is_null(self.type):
            return pa.nulls(len(self.array), pa.string())
        if self._is_text():
            return self.array.cast(pa.string())
        if integers and pa.types.is_integer(self.type):
            return self.array.cast(pa.string())
        expected = "text or integer" if integers else "text"
        raise _ColumnError(f"Expected a {expected} column, got {self.type}.")

    def values_(self) -> pa.Array:
        if self._is_number():
            return self.numbers()
        if self._is_text() or pa.types.is_null(self.type):
            return self.texts(integers=False)
        raise _ColumnError(f"Expected a numeric or text column, got {self.type}.")

    def timestamps(self) -> pa.Array:
        if pa.types.is_timestamp(self.type):
            if self.type.tz is None:
                raise _ColumnError(
                    "Timestamps without a time zone are ambiguous: write them "
                    "as UTC (isAdjustedToUTC)."
                )
            return self.array.cast(TIMESTAMP_TYPE)
        if self._is_text():
            return _parse_iso(self.array.cast(pa.string()))
        if self._is_number():
            return _epoch_seconds(self.numbers())
        raise _ColumnError(f"Expected a timestamp column, got {self.type}.")


def _epoch_seconds(seconds: pa.Array) -> pa.Array:
    values = seconds.to_numpy(zero_copy_only=False)
    mask = np.asarray(seconds.is_null()) if seconds.null_count else None
    micros = np.round(np.nan_to_num(values) * 1e6).astype(np.int64)
    return pa.array(micros, type=pa.int64(), mask=mask).cast(TIMESTAMP_TYPE)


def _parse_iso(texts: pa.Array) -> pa.Array:
    try:
        return texts.cast(TIMESTAMP_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for index, value in enumerate(texts.to_pylist()):
        if value is None:
            continue
        try:
            pa.array([value]).cast(TIMESTAMP_TYPE)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise _ColumnError(
                f"Row {index}: {value[:60]!r} is not an ISO 8601 time with a UTC "
                "offset (such as 2026-01-31T09:30:00Z)."
            ) from None
    raise _ColumnError("Unreadable timestamps.")  # pragma: no cover


def _first_null(array: pa.Array) -> int | None:
    if not array.null_count:
        return None
    return int(np.flatnonzero(np.asarray(array.is_null()))[0])


def _normalise(columns: dict[str, Any], schema: Schema, *, now: datetime) -> pa.Table:
    problems = _Problems()
    fixed = _FIXED_COLUMNS[schema.kind]
    features = dict(schema.features)
    segments = set(schema.segments)
    for name in columns:
        if name not in fixed and name not in features and name not in segments:
            hint = (
                " It is not in the feature spec of the deployed artifact, nor a "
                "fairness attribute of the model."
                if schema.kind == PREDICTIONS
                else ""
            )
            problems.add(name, "Unknown column." + hint)
    for name, (_, required) in fixed.items():
        if required and name not in columns:
            problems.add(name, "Required column missing.")
    for name in features:
        if name not in columns:
            problems.add(name, "Feature column missing (send null for missing values).")
    problems.raise_if_any()

    arrays: dict[str, pa.Array] = {}
    for name, (rule, required) in fixed.items():
        if name not in columns:
            continue
        try:
            arrays[name] = _fixed(rule, columns[name], now=now)
            if required:
                null_at = _first_null(arrays[name])
                if null_at is not None:
                    raise _ColumnError(f"Row {null_at}: a value is required.")
        except _ColumnError as error:
            problems.add(name, error.message)
    for name, kind in schema.features:
        try:
            column = columns[name]
            arrays[FEATURE_PREFIX + name] = (
                column.numbers() if kind == NUMERIC else column.texts()
            )
        except _ColumnError as error:
            problems.add(name, error.message)
    for name in schema.segments:
        if name in columns:
            try:
                arrays[SEGMENT_PREFIX + name] = columns[name].texts()
            except _ColumnError as error:
                problems.add(name, error.message)
    problems.raise_if_any()
    if "prediction_id" in arrays:
        _check_identifiers(arrays["prediction_id"], problems)
    if "name" in arrays:
        lengths = pc.utf8_length(arrays["name"]).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero((lengths < 1) | (lengths > MAX_KPI_NAME_LENGTH))
        if bad.size:
            problems.add(
                "name",
                f"Row {int(bad[0])}: a KPI name of 1 to {MAX_KPI_NAME_LENGTH} "
                "characters.",
            )
    for name in ("prediction", "label"):
        if name in arrays and pa.types.is_string(arrays[name].type):
            lengths = pc.utf8_length(arrays[name]).to_numpy(zero_copy_only=False)
            bad = np.flatnonzero(np.nan_to_num(lengths) > MAX_TEXT_LENGTH)
            if bad.size:
                problems.add(
                    name, f"Row {int(bad[0])}: at most {MAX_TEXT_LENGTH} characters."
                )
    if "timestamp" in arrays:
        _check_times(arrays["timestamp"], now, problems)
    problems.raise_if_any()
    return pa.table(arrays)


def _fixed(rule: str, column, *, now: datetime) -> pa.Array:
    if rule == "timestamp":
        return column.timestamps()
    if rule == "identifier":
        return column.texts()
    if rule == "kpi_name":
        return column.texts(integers=False)
    if rule in ("value", "required_value"):
        return column.values_()
    array = column.numbers()
    values = array.to_numpy(zero_copy_only=False)
    if rule == "unit":
        bad = np.flatnonzero((values < 0) | (values > 1))
        if bad.size:
            raise _ColumnError(f"Row {int(bad[0])}: must be between 0 and 1.")
    elif rule == "non_negative":
        bad = np.flatnonzero(values < 0)
        if bad.size:
            raise _ColumnError(f"Row {int(bad[0])}: must not be negative.")
    return array


def _check_identifiers(ids: pa.Array, problems: _Problems) -> None:
    lengths = pc.utf8_length(ids).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero((lengths < 1) | (lengths > MAX_TEXT_LENGTH))
    if bad.size:
        problems.add(
            "prediction_id",
            f"Row {int(bad[0])}: 1 to {MAX_TEXT_LENGTH} characters.",
        )
        return
    if pc.count_distinct(ids).as_py() != len(ids):
        values = ids.to_numpy(zero_copy_only=False)
        _, first, counts = np.unique(values, return_index=True, return_counts=True)
        repeated = sorted(first[counts > 1])
        problems.add(
            "prediction_id",
            f"Must be unique in a batch: {values[repeated[0]]!r} is repeated.",
        )


def _check_times(times: pa.Array, now: datetime, problems: _Problems) -> None:
    from django.conf import settings

    values = times.cast(pa.int64()).to_numpy(zero_copy_only=False)
    latest = now + timedelta(seconds=settings.MONITORING_MAX_CLOCK_SKEW_SECONDS)
    earliest = now - timedelta(days=settings.MONITORING_MAX_AGE_DAYS)
    future = np.flatnonzero(values > int(latest.timestamp() * 1e6))
    if future.size:
        problems.add(
            "timestamp",
            f"Row {int(future[0])}: in the future (later than "
            f"{latest:%Y-%m-%dT%H:%M:%SZ}).",
        )
    past = np.flatnonzero(values < int(earliest.timestamp() * 1e6))
    if past.size:
        problems.add(
            "timestamp",
            f"Row {int(past[0])}: older than {settings.MONITORING_MAX_AGE_DAYS} days "
            "(MONITORING_MAX_AGE_DAYS).",
        )


# --- Storage -----------------------------------------------------------------------

_IPC_OPTIONS = ipc.IpcWriteOptions(compression="zstd")


def table_to_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema, options=_IPC_OPTIONS) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def table_from_bytes(payload: bytes | memoryview) -> pa.Table:
    with ipc.open_stream(pa.py_buffer(payload)) as reader:
        return reader.read_all()


# --- Reference samples ---------------------------------------------------------------


def parse_reference(
    body: bytes, *, is_parquet: bool, schema: Schema, limits: Limits
) -> pa.Table:
    """A reference sample: the feature columns (and optionally ``score``).

    JSON: ``{"records": [...]}`` or ``{"columns": {...}}``; other keys are
    refused. Returns the normalised table (features as ``f:<name>``, ``score``).
    """
    reference_schema = _ReferenceSchema(schema)
    if is_parquet:
        if not (body[:4] == PARQUET_MAGIC and body[-4:] == PARQUET_MAGIC):
            raise BatchInvalid(
                "The body is not an Apache Parquet file.",
                fields={"body": ["Expected a Parquet file (it starts with PAR1)."]},
            )
        try:
            table = pq.read_table(io.BytesIO(body), use_threads=False)
        except (pa.ArrowException, OSError) as error:
            raise BatchInvalid(
                "The Parquet file cannot be read.", fields={"body": [str(error)]}
            ) from error
        _check_rows(table.num_rows, limits)
        columns = {
            name: _ArrowColumn(table.column(name).combine_chunks())
            for name in table.column_names
        }
    else:
        layout, document = parse_json_body(body)
        if set(document) - {"records", "columns"}:
            raise BatchInvalid(
                "The reference sample was refused.",
                fields={"body": ["Only records or columns."]},
            )
        if layout == JSON_ROWS:
            raw = _rows_to_columns(document["records"], limits)
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
            _check_rows(lengths.pop(), limits)
        columns = {name: _JsonColumn(values) for name, values in raw.items()}
    return reference_schema.normalise(columns)


class _ReferenceSchema:
    def __init__(self, schema: Schema):
        self.schema = schema

    def normalise(self, columns: dict[str, Any]) -> pa.Table:
        problems = _Problems()
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
            except _ColumnError as error:
                problems.add(name, error.message)
        if "score" in columns:
            try:
                arrays["score"] = columns["score"].numbers()
            except _ColumnError as error:
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
