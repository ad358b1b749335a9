"""Checking a batch's columns against its schema and normalising them into one
Arrow table (features as ``f:<name>``, segments as ``s:<name>``), reporting
every problem per column at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings

from monitoring.parsing.columns import ColumnError
from monitoring.parsing.schema import (
    FEATURE_PREFIX,
    FIXED_COLUMNS,
    MAX_KPI_NAME_LENGTH,
    MAX_TEXT_LENGTH,
    NUMERIC,
    PREDICTIONS,
    SEGMENT_PREFIX,
    Problems,
    Schema,
)


def _first_null(array: pa.Array) -> int | None:
    if not array.null_count:
        return None
    return int(np.flatnonzero(np.asarray(array.is_null()))[0])


def normalise_columns(
    columns: dict[str, Any], schema: Schema, *, now: datetime
) -> pa.Table:
    problems = Problems()
    fixed = FIXED_COLUMNS[schema.kind]
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
                    raise ColumnError(f"Row {null_at}: a value is required.")
        except ColumnError as error:
            problems.add(name, error.message)
    for name, kind in schema.features:
        try:
            column = columns[name]
            array = column.numbers() if kind == NUMERIC else column.texts()
            if name in schema.required_features and array.null_count:
                raise ColumnError(_missing_rows_message(array))
            arrays[FEATURE_PREFIX + name] = array
        except ColumnError as error:
            problems.add(name, error.message)
    for name in schema.segments:
        if name in columns:
            try:
                arrays[SEGMENT_PREFIX + name] = columns[name].texts()
            except ColumnError as error:
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
        check_times(arrays["timestamp"], now, problems)
    problems.raise_if_any()
    return pa.table(arrays)


MISSING_ROWS_SHOWN = 10


def _missing_rows_message(array: pa.Array) -> str:
    """Name the rows missing a value of a feature that may not be missing."""
    rows = np.flatnonzero(np.asarray(array.is_null()))
    shown = ", ".join(str(int(row)) for row in rows[:MISSING_ROWS_SHOWN])
    more = (
        f" and {rows.size - MISSING_ROWS_SHOWN:,} more"
        if rows.size > MISSING_ROWS_SHOWN
        else ""
    )
    label = "Row" if rows.size == 1 else "Rows"
    return (
        f"{label} {shown}{more}: missing (null or NaN), and the feature spec says "
        "this feature is never missing (nullable: false)."
    )


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
            raise ColumnError(f"Row {int(bad[0])}: must be between 0 and 1.")
    elif rule == "non_negative":
        bad = np.flatnonzero(values < 0)
        if bad.size:
            raise ColumnError(f"Row {int(bad[0])}: must not be negative.")
    return array


def _check_identifiers(ids: pa.Array, problems: Problems) -> None:
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


def check_times(times: pa.Array, now: datetime, problems: Problems) -> None:
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
