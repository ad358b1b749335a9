"""Reading a request body within the size limit, and the batch's envelope: the
batch id, the version and the JSON document's layout."""

from __future__ import annotations

import zlib
from typing import Any

from rest_framework.exceptions import ParseError

from kernel.guards import is_digits, json_shape, loads_checked
from kernel.secrets import secret_errors
from monitoring.errors import BatchInvalid, PayloadTooLarge
from monitoring.parsing.schema import (
    BATCH_ID_PATTERN,
    JSON_COLUMNS,
    JSON_ROWS,
    check_row_limit,
)


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
    if problems := secret_errors(value):
        raise BatchInvalid("The batch was refused.", fields={"batch_id": problems})
    return value


def check_version(value: Any) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and is_digits(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BatchInvalid(
            "The batch was refused.",
            fields={"version": ["A version number (a positive integer)."]},
        )
    return value


def estimated_rows(body: bytes) -> int:
    """The rows a JSON batch holds, counted on its structure before parsing:
    objects in ``records`` (depth 3), or values per array in ``columns`` (n
    commas at depth 3 across the arrays mean n + arrays values). A refused
    body never becomes millions of Python objects (parsed, tiny records take
    about 15 times the memory of their text)."""
    shape = json_shape(body, at_depth=3)
    per_column = (shape.commas + shape.arrays) // shape.arrays if shape.arrays else 0
    return max(shape.objects, per_column)


def parse_json_body(
    body: bytes, *, max_rows: int | None = None
) -> tuple[str, dict[str, Any]]:
    """Decode a JSON batch; return its layout and the document. With
    ``max_rows``, a body with more rows is refused before it is parsed."""
    if max_rows is not None:
        check_row_limit(estimated_rows(body), max_rows)
    try:
        document = loads_checked(body, strict=False)
    except ParseError as error:
        raise BatchInvalid(
            "The body is not valid JSON.", fields={"body": [str(error.detail)]}
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
