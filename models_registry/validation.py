"""Checks on what data scientists send, shared by the API and the services.

Each check returns a list of messages (empty when the value is fine) so that the
caller can collect every field's problems and answer once with all of them.
"""

import math
import re
from typing import Any

# The scanner lives in the kernel (several apps use it); the registry's
# services call it as ``validation.secret_errors``.
from kernel.secrets import secret_errors

SHA256 = re.compile(r"^[0-9a-f]{64}$")
COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:[-+][0-9A-Za-z.-]+)?$"
)
# runs:/, models:/ and mlflow-artifacts:/ (an MLflow tracking server's proxied
# artifact store) are how MLflow clients name artifacts.
URI_SCHEMES = ("s3://", "gs://", "az://", "abfss://", "file://", "https://", "runs:/",
               "models:/", "mlflow-artifacts:/")  # fmt: skip
DIRECTIONS = ("higher", "lower")


def sha256_errors(value: str) -> list[str]:
    if not isinstance(value, str) or not SHA256.match(value):
        return ["Must be a SHA-256 digest: 64 lowercase hexadecimal characters."]
    return []


def uri_errors(value: str) -> list[str]:
    if not isinstance(value, str) or not value.startswith(URI_SCHEMES):
        return [
            "Unknown URI scheme; use one of "
            + ", ".join(scheme.rstrip(":/") for scheme in URI_SCHEMES)
            + "."
        ]
    if len(value) > 1000:
        return ["At most 1000 characters."]
    return secret_errors(value)


def is_finite_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def metrics_errors(metrics: Any) -> list[str]:
    """Metrics are a flat object of names to finite numbers."""
    if not isinstance(metrics, dict):
        return ["Must be an object of metric names to numbers."]
    problems = []
    for name, value in metrics.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            problems.append(f"“{name}” is not a valid metric name.")
        elif not is_finite_number(value):
            problems.append(f"“{name}” must be a finite number, not {value!r}.")
    return problems + secret_errors(list(metrics))


def success_metric_errors(entries: Any, *, name_key: str) -> list[str]:
    """Entries like {"metric": "auc", "direction": "higher", "threshold": 0.75}."""
    if not isinstance(entries, list):
        return ["Must be a list."]
    problems = []
    seen = set()
    for index, entry in enumerate(entries):
        where = f"Entry {index + 1}"
        if not isinstance(entry, dict) or set(entry) != {
            name_key,
            "direction",
            "threshold",
        }:
            problems.append(
                f"{where} needs exactly “{name_key}”, “direction”, “threshold”."
            )
            continue
        if not isinstance(entry[name_key], str) or not entry[name_key].strip():
            problems.append(f"{where}: “{name_key}” must be a non-empty name.")
        elif entry[name_key] in seen:
            problems.append(f"{where}: “{entry[name_key]}” appears twice.")
        seen.add(entry[name_key])
        if entry["direction"] not in DIRECTIONS:
            problems.append(f"{where}: “direction” must be “higher” or “lower”.")
        if not is_finite_number(entry["threshold"]):
            problems.append(f"{where}: “threshold” must be a finite number.")
    return problems


def schema_errors(schema: Any) -> list[str]:
    if not isinstance(schema, list) or not schema:
        return ["Must be a non-empty list of {“name”, “type”} columns."]
    names = set()
    for index, column in enumerate(schema):
        if (
            not isinstance(column, dict)
            or not isinstance(column.get("name"), str)
            or not column["name"]
            or not isinstance(column.get("type"), str)
            or not column["type"]
        ):
            return [f"Column {index + 1} needs a “name” and a “type”."]
        if column["name"] in names:
            return [f"Column “{column['name']}” appears twice."]
        names.add(column["name"])
    return secret_errors(schema)


PII_HANDLING = ("dropped", "hashed", "tokenised", "kept")


def pii_errors(pii_columns: Any, schema: Any) -> list[str]:
    if not isinstance(pii_columns, list):
        return ["Must be a list of {“column”, “handling”, “legal_basis”}."]
    names = {column.get("name") for column in schema if isinstance(column, dict)}
    problems = []
    for entry in pii_columns:
        if not isinstance(entry, dict) or not isinstance(entry.get("column"), str):
            problems.append("Each entry needs a “column”.")
            continue
        column = entry["column"]
        if entry.get("handling") != "dropped" and column not in names:
            problems.append(f"“{column}” is not a column of the schema.")
        if entry.get("handling") not in PII_HANDLING:
            problems.append(
                f"“{column}”: handling must be one of {', '.join(PII_HANDLING)}."
            )
        elif (
            entry["handling"] == "kept"
            and not str(entry.get("legal_basis", "")).strip()
        ):
            problems.append(f"“{column}” is kept: state its legal basis.")
    return problems


FEATURE_TYPES = ("numeric", "categorical")


def feature_spec_errors(spec: Any) -> list[str]:
    if not isinstance(spec, list):
        return ["Must be a list of {“name”, “type”} features."]
    names = set()
    for index, feature in enumerate(spec):
        if not isinstance(feature, dict) or not isinstance(feature.get("name"), str):
            return [f"Feature {index + 1} needs a “name”."]
        if feature.get("type") not in FEATURE_TYPES:
            return [
                f"Feature “{feature['name']}”: type must be numeric or categorical."
            ]
        if feature["name"] in names:
            return [f"Feature “{feature['name']}” appears twice."]
        names.add(feature["name"])
    return secret_errors(spec)
