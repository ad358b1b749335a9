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
finite or missing: null and NaN are missing values (counted per feature), infinities
are refused; a feature whose spec says ``"nullable": false`` refuses missing values,
naming the rows.

Every problem is reported per column (``fields``), naming the first bad row;
nothing of a refused batch is stored. The normalised table names features
``f:<name>`` and segments ``s:<name>`` so they never collide with the fixed
columns, and is stored as a zstd-compressed Arrow IPC stream.

Modules: ``schema`` (kinds, fixed columns, limits, the parsed result),
``bodies`` (reading a body within the limit, batch id, version, JSON layout),
``batches`` (JSON and Parquet batches), ``columns`` (reading one column),
``normalise`` (checking and normalising the columns), ``reference`` (reference
samples) and ``storage`` (the stored Arrow stream).
"""

from monitoring.parsing.batches import parse_json, parse_json_document, parse_parquet
from monitoring.parsing.bodies import (
    check_batch_id,
    check_version,
    parse_json_body,
    read_body,
)
from monitoring.parsing.reference import parse_reference
from monitoring.parsing.schema import (
    CATEGORICAL,
    FEATURE_PREFIX,
    JSON_COLUMNS,
    JSON_ROWS,
    KINDS,
    LABELS,
    METRICS,
    NUMERIC,
    PARQUET,
    PREDICTIONS,
    RESERVED_NAMES,
    SEGMENT_PREFIX,
    Limits,
    ParsedBatch,
    Schema,
    feature_kind,
)
from monitoring.parsing.storage import table_from_bytes, table_to_bytes

__all__ = [
    "CATEGORICAL",
    "FEATURE_PREFIX",
    "JSON_COLUMNS",
    "JSON_ROWS",
    "KINDS",
    "LABELS",
    "METRICS",
    "NUMERIC",
    "PARQUET",
    "PREDICTIONS",
    "RESERVED_NAMES",
    "SEGMENT_PREFIX",
    "Limits",
    "ParsedBatch",
    "Schema",
    "check_batch_id",
    "check_version",
    "feature_kind",
    "parse_json",
    "parse_json_body",
    "parse_json_document",
    "parse_parquet",
    "parse_reference",
    "read_body",
    "table_from_bytes",
    "table_to_bytes",
]
