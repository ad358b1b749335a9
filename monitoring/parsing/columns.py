"""One column of a batch, from decoded JSON values or a Parquet column, read
as numbers, texts, values or timestamps; a bad value raises ``ColumnError``
naming its row."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from monitoring.parsing.schema import TIMESTAMP_TYPE


def describe_value(value: Any) -> str:
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


class ColumnError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class JsonColumn:
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
            raise ColumnError(
                f"Row {index}: expected a number, got {describe_value(value)}."
            )
        mask = self._null_mask()
        if mask is None:
            array = np.asarray(self.values, dtype=np.float64)
        else:
            array = np.asarray(
                [np.nan if v is None else v for v in self.values], dtype=np.float64
            )
        infinite = np.isinf(array)
        if infinite.any():
            index = int(np.flatnonzero(infinite)[0])
            raise ColumnError(
                f"Row {index}: {self.values[index]!r} is not a finite number."
            )
        return _missing_nan(array)

    def texts(self, *, integers: bool = True) -> pa.Array:
        allowed = {str, type(None)} | ({int} if integers else set())
        if not self.types <= allowed:
            index, value = self._first(lambda v: type(v) not in allowed)
            expected = "text or an integer" if integers else "text"
            raise ColumnError(
                f"Row {index}: expected {expected}, got {describe_value(value)}."
            )
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
        raise ColumnError(
            "Expected all numbers or all text (null allowed), got a mix or other types."
        )

    def timestamps(self) -> pa.Array:
        if self.types <= {int, float, type(None)}:
            return _epoch_seconds(self.numbers())
        if self.types <= {str, type(None)}:
            return _parse_iso(pa.array(self.values, type=pa.string()))
        index, value = self._first(lambda v: type(v) not in (str, int, float))
        raise ColumnError(
            f"Row {index}: expected an ISO 8601 time with a UTC offset or epoch "
            f"seconds, got {describe_value(value)}."
        )


class ArrowColumn:
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
            raise ColumnError(f"Expected a numeric column, got {self.type}.")
        try:
            array = self.array.cast(pa.float64())
        except pa.ArrowInvalid as error:
            raise ColumnError(str(error)) from error
        values = array.to_numpy(zero_copy_only=False)
        infinite = np.isinf(values)
        if infinite.any():
            index = int(np.flatnonzero(infinite)[0])
            raise ColumnError(
                f"Row {index}: {float(values[index])!r} is not a finite number."
            )
        return _missing_nan(values)

    def texts(self, *, integers: bool = True) -> pa.Array:
        if pa.types.is_null(self.type):
            return pa.nulls(len(self.array), pa.string())
        if self._is_text():
            return self.array.cast(pa.string())
        if integers and pa.types.is_integer(self.type):
            return self.array.cast(pa.string())
        expected = "text or integer" if integers else "text"
        raise ColumnError(f"Expected a {expected} column, got {self.type}.")

    def values_(self) -> pa.Array:
        if self._is_number():
            return self.numbers()
        if self._is_text() or pa.types.is_null(self.type):
            return self.texts(integers=False)
        raise ColumnError(f"Expected a numeric or text column, got {self.type}.")

    def timestamps(self) -> pa.Array:
        if pa.types.is_timestamp(self.type):
            if self.type.tz is None:
                raise ColumnError(
                    "Timestamps without a time zone are ambiguous: write them "
                    "as UTC (isAdjustedToUTC)."
                )
            return self.array.cast(TIMESTAMP_TYPE)
        if self._is_text():
            return _parse_iso(self.array.cast(pa.string()))
        if self._is_number():
            return _epoch_seconds(self.numbers())
        raise ColumnError(f"Expected a timestamp column, got {self.type}.")


def _missing_nan(values: np.ndarray) -> pa.Array:
    """Float64 values with NaN as a missing value (null), as Parquet nulls are:
    clients that write NaN for missing (NumPy, pandas, polars) lose nothing."""
    mask = np.isnan(values)
    return pa.array(values, mask=mask if mask.any() else None)


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
            raise ColumnError(
                f"Row {index}: {value[:60]!r} is not an ISO 8601 time with a UTC "
                "offset (such as 2026-01-31T09:30:00Z)."
            ) from None
    raise ColumnError("Unreadable timestamps.")  # pragma: no cover
