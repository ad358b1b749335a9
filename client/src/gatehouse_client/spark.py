"""Window profiles of a Spark DataFrame, built on the cluster.

``profile_spark`` never brings rows to the driver:

1. each partition's Arrow batches (``mapInArrow``) are profiled by the same
   ``profile_batches`` as pandas and Polars frames, and the partition yields
   one partial window profile per hour it holds, in the wire form
   (``WindowProfile.to_dict`` as JSON, docs/profiles.md);
2. the partials are grouped by hour and merged on the executors
   (``groupBy(...).applyInArrow``), each checked against the spec as the
   portal checks a received profile;
3. the driver collects one profile per window: a few kilobytes per hour
   whatever the number of rows.

Only the columns the spec reads are selected before step 1, so Spark ships
nothing else to the Python workers. The executors need ``gatehouse-client``
installed (``pip install 'gatehouse-client[spark]'`` on the cluster image, or
``--py-files``) and pyarrow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa

from gatehouse_client.frames import check_columns, profile_batches, wanted_columns
from gatehouse_client.profile import ProfileSpec, WindowProfile, merge_windows

if TYPE_CHECKING:  # pragma: no cover - optional dependency
    from pyspark.sql import DataFrame

PARTIAL_SCHEMA = "hour long, profile string"
_ARROW_SCHEMA = pa.schema([("hour", pa.int64()), ("profile", pa.string())])


def profile_spark(
    df: DataFrame,
    spec: ProfileSpec,
    *,
    window: str = "timestamp",
    allow_missing_features: bool = False,
) -> list[WindowProfile]:
    """Window profiles (one per UTC hour, in order) of a Spark DataFrame.

    ``window`` names the timestamp column that puts each row in its window
    (the portal's windows are UTC hours). Partial profiles are built per
    partition and merged per window on the cluster (``window_profiles``); the
    driver receives one profile per window.
    """
    merged = window_profiles(
        df, spec, window=window, allow_missing_features=allow_missing_features
    )
    collected = merged.toArrow()
    return merge_windows(_decode(collected, spec))


def window_profiles(
    df: DataFrame,
    spec: ProfileSpec,
    *,
    window: str = "timestamp",
    allow_missing_features: bool = False,
) -> DataFrame:
    """The Spark DataFrame of the merged window profiles, still on the cluster:
    one row per hour, ``hour`` (hours since the epoch, UTC) and ``profile``
    (the window's wire form as JSON). Write it to a table, or collect it."""
    names = df.columns
    check_columns(
        spec, names, timestamp=window, allow_missing_features=allow_missing_features
    )
    wanted = wanted_columns(spec, names, timestamp=window)
    spec_document = json.dumps(spec.to_dict())

    def partials(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        local_spec = ProfileSpec.from_dict(json.loads(spec_document))
        windows = profile_batches(batches, local_spec, timestamp=window)
        if windows:
            yield _encode(windows)

    def merge(table: pa.Table) -> pa.Table:
        local_spec = ProfileSpec.from_dict(json.loads(spec_document))
        merged = merge_windows(_decode(table, local_spec))
        return pa.Table.from_batches([_encode(merged)])

    return (
        df.select(*wanted)
        .mapInArrow(partials, PARTIAL_SCHEMA)
        .groupBy("hour")
        .applyInArrow(merge, PARTIAL_SCHEMA)
    )


def _encode(windows: list[WindowProfile]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [
            pa.array([window.hour for window in windows], pa.int64()),
            pa.array(
                [
                    json.dumps(window.to_dict(), separators=(",", ":"), allow_nan=False)
                    for window in windows
                ],
                pa.string(),
            ),
        ],
        schema=_ARROW_SCHEMA,
    )


def _decode(table: pa.Table, spec: ProfileSpec) -> list[WindowProfile]:
    return [
        WindowProfile.from_dict(json.loads(text), spec)
        for text in table.column("profile").to_pylist()
    ]
