"""Secrets never get into Gatehouse: the scanner, and the one place every write
is scanned.

``find_secrets`` names every credential-looking string in a JSON-like value
(cloud keys, private keys, tokens, passwords in URIs or after ``password=``);
text that merely mentions a password is not one. ``secret_fields`` runs it
over every field of a write's input serializer, nested ones included, as sent:
the API base (``kernel.api.ApiView.parse_body``) calls it for every REST write,
and the MLflow bridge's parameters (``mlflow_bridge.params``) scan what they
read. A field is scanned unless ``UNSCANNED`` lists it, with the reason; the
test in tests/kernel/test_secrets.py walks every write's serializer, so a new
field is scanned from the start or listed here on purpose.
"""

import re
from typing import Any

from rest_framework import serializers

# Things that must never be stored: cloud keys, private keys, tokens, passwords in
# URIs. Each pattern is named so that the error says what was found.
SECRET_PATTERNS = [
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    (
        "an AWS secret access key",
        re.compile(r"aws_?secret_?access_?key\W{0,5}[A-Za-z0-9/+=]{40}", re.I),
    ),
    (
        "a private key block",
        re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    ),
    ("a bearer token", re.compile(r"\bbearer\s+[A-Za-z0-9\-._~+/]{20,}=*", re.I)),
    (
        "a GitHub token",
        re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}"),
    ),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z\-_]{35}\b")),
    ("an Azure storage key", re.compile(r"AccountKey=[A-Za-z0-9+/=]{40,}", re.I)),
    ("a Gatehouse API token", re.compile(r"\bgh_[a-z0-9]{10}_[A-Za-z0-9_-]{43}\b")),
    (
        "a password in a URI",
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.I),
    ),
    (
        "a password or secret value",
        re.compile(
            r"\b(?:password|passwd|pwd|secret|api_?key|access_?token)\b\s*[:=]\s*\S{6,}",
            re.I,
        ),
    ),
]
_SECRET_KEY_NAMES = re.compile(
    r"(password|passwd|secret|api_?key|access_?key|private_?key|token|credential)", re.I
)


def find_secrets(value: Any) -> list[str]:
    """Describe every credential-looking string in a JSON-like value (keys too)."""
    found: list[str] = []

    def visit(item: Any, key: str | None = None) -> None:
        if isinstance(item, dict):
            for child_key, child in item.items():
                visit(str(child_key))
                if (
                    _SECRET_KEY_NAMES.search(str(child_key))
                    and isinstance(child, str)
                    and len(child) >= 6
                ):
                    found.append(f"a value under the key “{child_key}”")
                visit(child, str(child_key))
        elif isinstance(item, list | tuple):
            for child in item:
                visit(child, key)
        elif isinstance(item, str):
            for label, pattern in SECRET_PATTERNS:
                if pattern.search(item):
                    found.append(label)

    visit(value)
    return sorted(set(found))


def secret_errors(value: Any) -> list[str]:
    found = find_secrets(value)
    if not found:
        return []
    return [
        "Looks like it holds credentials ("
        + ", ".join(found)
        + "). Secrets must never be stored in Gatehouse: remove them."
    ]


# The one list of write fields that are NOT scanned, as "Serializer.field" (the
# input serializer's class name), each with the reason. Everything else that
# a write carries is scanned, whatever its type.
UNSCANNED: dict[str, str] = {
    # Monitoring ingestion reads its bodies itself (monitoring.parsing), not
    # through parse_body: the batch id is scanned there (check_batch_id); the
    # rows are measurements, below.
    "BatchJsonDoc.batch_id": "scanned by monitoring.parsing.check_batch_id",
    "BatchJsonDoc.records": "feature values and predictions of up to 100,000 "
    "rows: measurements typed by monitoring.parsing, not text people write",
    "BatchJsonDoc.columns": "the same measurements in column layout",
    "ReferenceJsonDoc.records": "a reference sample of feature values: "
    "measurements typed by monitoring.parsing, not text people write",
    "ReferenceJsonDoc.columns": "the same measurements in column layout",
}


def secret_fields(
    serializer: serializers.Serializer, data: Any
) -> dict[str, list[str]]:
    """Every field of ``data`` (a write's body, as sent) that holds something
    credential-looking, named as ``kernel.api.flatten_errors`` names fields
    (``run.external_run_id``, ``pii_columns[0].legal_basis``)."""
    found: dict[str, list[str]] = {}

    def visit(form: serializers.Serializer, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            return
        for name, field in form.fields.items():
            if field.read_only or name not in value:
                continue
            if f"{type(form).__name__}.{name}" in UNSCANNED:
                continue
            path = f"{where}.{name}" if where else name
            raw = value[name]
            nested = (
                field.child
                if isinstance(field, serializers.ListSerializer)
                else (
                    getattr(field, "child", None)
                    if isinstance(field, serializers.ListField)
                    else None
                )
            )
            if isinstance(field, serializers.Serializer):
                visit(field, raw, path)
            elif isinstance(nested, serializers.Serializer):
                for index, item in enumerate(raw if isinstance(raw, list) else []):
                    visit(nested, item, f"{path}[{index}]")
            elif problems := secret_errors(raw):
                found[path] = problems

    visit(serializer, data, "")
    return found
