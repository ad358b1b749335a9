"""Window profiles of data frames: pandas, Polars and Arrow, all through Arrow.

Each front-end turns its frame into Arrow record batches and hands them to one
function, ``profile_batches``, which profiles every batch with the library's
``profile_table`` (the code the portal runs on the rows it receives) and merges
the results hour by hour. So a frame profiled here, the same rows pushed to the
portal, and the same rows profiled by Spark (``gatehouse_client.spark``) give
the same window profiles: counts, minima and maxima exactly, floating-point
sums within ``FLOAT_RTOL`` (they are added in another order).

The table's columns are those of a prediction row (README, Monitoring):
``timestamp``, one column per feature of the spec, and optionally ``score``,
``latency_ms``, ``prediction``, ``label`` and the spec's segment attributes.
Columns the spec does not name are not profiled (and never leave the
machine); a frame without one of the spec's features raises ``ProfileInvalid``
unless ``allow_missing_features`` is set, so the wrong columns cannot be
profiled silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from gatehouse_client.profile import (
    ProfileInvalid,
    ProfileSpec,
    WindowProfile,
    merge_windows,
    profile_table,
)

if TYPE_CHECKING:  # pragma: no cover - optional dependencies
    import pandas as pd
    import polars as pl

# The optional columns of a prediction row, besides the spec's features.
FIXED_COLUMNS = ("score", "latency_ms", "prediction", "label")
# pandas and Polars frames are profiled this many rows at a time, so memory
# stays bounded by a chunk's Arrow copy whatever the frame's size.
DEFAULT_CHUNK_ROWS = 1_000_000


def wanted_columns(
    spec: ProfileSpec, available: Iterable[str], *, timestamp: str = "timestamp"
) -> list[str]:
    """The columns of a frame that a profile reads, in a stable order."""
    names = set(available)
    wanted = [timestamp]
    wanted += [name for name in FIXED_COLUMNS if name in names]
    wanted += [name for name in spec.features if name in names]
    wanted += [name for name in spec.segments if name in names]
    return list(dict.fromkeys(wanted))


def check_columns(
    spec: ProfileSpec,
    available: Iterable[str],
    *,
    timestamp: str = "timestamp",
    allow_missing_features: bool = False,
) -> None:
    """Refuse a frame without its timestamp or (unless allowed) a spec feature."""
    names = set(available)
    fields: dict[str, list[str]] = {}
    if timestamp not in names:
        fields[timestamp] = ["Required: the time of each prediction."]
    if not allow_missing_features:
        for name in spec.features:
            if name not in names:
                fields[name] = ["A feature of the version's spec; not in the data."]
    if fields:
        raise ProfileInvalid(
            "The data does not have the columns of the version's feature spec.",
            fields,
        )


def profile_batches(
    batches: Iterable[pa.RecordBatch | pa.Table],
    spec: ProfileSpec,
    *,
    timestamp: str = "timestamp",
) -> list[WindowProfile]:
    """Window profiles (one per hour, in order) of a stream of Arrow batches."""
    windows: dict[int, WindowProfile] = {}
    for batch in batches:
        if batch.num_rows == 0:
            continue
        table = (
            pa.Table.from_batches([batch])
            if isinstance(batch, pa.RecordBatch)
            else batch
        )
        if timestamp != "timestamp":
            table = _renamed(table, timestamp)
        for window in profile_table(table, spec):
            current = windows.get(window.hour)
            windows[window.hour] = window if current is None else current.merge(window)
    return [windows[hour] for hour in sorted(windows)]


def profile_arrow(
    table: pa.Table | pa.RecordBatch | pa.RecordBatchReader,
    spec: ProfileSpec,
    *,
    timestamp: str = "timestamp",
    allow_missing_features: bool = False,
) -> list[WindowProfile]:
    """Window profiles of an Arrow table, record batch or batch reader."""
    check_columns(
        spec,
        table.schema.names,
        timestamp=timestamp,
        allow_missing_features=allow_missing_features,
    )
    wanted = wanted_columns(spec, table.schema.names, timestamp=timestamp)
    if isinstance(table, pa.RecordBatchReader):
        return profile_batches(
            (batch.select(wanted) for batch in table), spec, timestamp=timestamp
        )
    return profile_batches([table.select(wanted)], spec, timestamp=timestamp)


def profile_pandas(
    df: pd.DataFrame,
    spec: ProfileSpec,
    *,
    timestamp: str = "timestamp",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    allow_missing_features: bool = False,
) -> list[WindowProfile]:
    """Window profiles of a pandas DataFrame, converted to Arrow a chunk at a
    time (naive timestamps are UTC)."""
    columns = [str(name) for name in df.columns]
    check_columns(
        spec,
        columns,
        timestamp=timestamp,
        allow_missing_features=allow_missing_features,
    )
    wanted = wanted_columns(spec, columns, timestamp=timestamp)
    frame = df[wanted]

    def chunks() -> Iterator[pa.Table]:
        for start in range(0, len(frame), max(1, chunk_rows)):
            part = frame.iloc[start : start + chunk_rows]
            yield pa.Table.from_pandas(part, preserve_index=False)

    return profile_batches(chunks(), spec, timestamp=timestamp)


def profile_polars(
    df: pl.DataFrame | pl.LazyFrame,
    spec: ProfileSpec,
    *,
    timestamp: str = "timestamp",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    allow_missing_features: bool = False,
) -> list[WindowProfile]:
    """Window profiles of a Polars DataFrame (or LazyFrame, collected with only
    the columns the spec needs), through Arrow a chunk at a time."""
    names = df.collect_schema().names() if hasattr(df, "collect_schema") else df.columns
    check_columns(
        spec, names, timestamp=timestamp, allow_missing_features=allow_missing_features
    )
    wanted = wanted_columns(spec, names, timestamp=timestamp)
    frame = df.select(wanted)
    if hasattr(frame, "collect") and not hasattr(frame, "to_arrow"):
        frame = frame.collect()

    def chunks() -> Iterator[pa.Table]:
        for start in range(0, frame.height, max(1, chunk_rows)):
            yield frame.slice(start, chunk_rows).to_arrow()

    return profile_batches(chunks(), spec, timestamp=timestamp)


def merge_all(profiles: Iterable[Iterable[WindowProfile]]) -> list[WindowProfile]:
    """Merge several lists of window profiles (e.g. one per file) hour by hour."""
    return merge_windows(window for windows in profiles for window in windows)


def _renamed(table: pa.Table, timestamp: str) -> pa.Table:
    names: list[Any] = [
        "timestamp" if name == timestamp else name for name in table.column_names
    ]
    if names.count("timestamp") > 1:
        raise ProfileInvalid(
            "Two timestamp columns.",
            {"timestamp": [f"The data has 'timestamp' and {timestamp!r}."]},
        )
    return table.rename_columns(names)
