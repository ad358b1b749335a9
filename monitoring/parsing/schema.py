"""What a batch may contain: the kinds, layouts and fixed columns, the schema of
one kind for one model version, the size limits, and the parsed result."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from gatehouse_client.profile import rows as _rows
from gatehouse_client.profile import segments as _segments

from monitoring.errors import BatchInvalid, TooManyFeatures, TooManyRows

PREDICTIONS = "predictions"
LABELS = "labels"
METRICS = "metrics"
KINDS = (PREDICTIONS, LABELS, METRICS)

JSON_ROWS = "json_rows"
JSON_COLUMNS = "json_columns"
PARQUET = "parquet"

NUMERIC = "numeric"
CATEGORICAL = "categorical"

# Feature columns are named f:<feature>, segments s:<attribute> (the client
# library profiles tables named so).
FEATURE_PREFIX = _rows.FEATURE_PREFIX
SEGMENT_PREFIX = _segments.SEGMENT_PREFIX

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
PARQUET_MAGIC = b"PAR1"
BATCH_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/=+@-]{0,199}$")
MAX_TEXT_LENGTH = 200
MAX_KPI_NAME_LENGTH = 100

# Columns of each kind besides features and segments: name -> (kind, required).
FIXED_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
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
    name for columns in FIXED_COLUMNS.values() for name in columns
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
    # Features whose spec says a value is always present (``"nullable": false``):
    # a missing value (null or NaN) refuses the batch, naming the rows.
    required_features: frozenset[str] = frozenset()

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
        required = frozenset(
            str(item["name"])
            for item in feature_spec
            if isinstance(item, dict)
            and item.get("name")
            and item.get("nullable", True) is False
        )
        return cls(
            kind=kind,
            features=features,
            required_features=required,
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


class Problems:
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


def check_row_limit(count: int, max_rows: int) -> None:
    if count > max_rows:
        raise TooManyRows(
            f"The batch has {count:,} rows; the limit is {max_rows:,} "
            "(MONITORING_MAX_ROWS): split it.",
            fields={"rows": [f"At most {max_rows:,} rows per batch."]},
        )


def check_rows(count: int, limits: Limits) -> None:
    check_row_limit(count, limits.max_rows)
    if count == 0:
        raise BatchInvalid(
            "The batch was refused.", fields={"rows": ["The batch has no rows."]}
        )


def check_feature_count(names: Sequence[str], schema: Schema, limits: Limits):
    fixed = FIXED_COLUMNS[schema.kind]
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
