"""The profile document as it travels: JSON, or the same JSON in a small binary
frame (zstd-compressed, with its length declared first so a reader can refuse
an oversized body before decompressing it). See docs/profiles.md.

Document::

    {"format": "gatehouse.profiles", "format_version": 1,
     "batch_id": "card-scoring-2026-01-31", "version": 3, "reference": 12,
     "windows": [{"start": "2026-01-31T10:00:00Z", "rows": 1000, ...}, ...]}

Binary frame: ``GHPF`` (4 bytes), the frame version (1 byte, 1), a reserved
zero byte, the length of the JSON document in bytes (unsigned 64-bit, little
endian), then one zstd frame holding the UTF-8 JSON document.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from gatehouse_client.profile.errors import FieldErrors, ProfileInvalid
from gatehouse_client.profile.spec import ProfileSpec
from gatehouse_client.profile.window import (
    WIRE_VERSION,
    WindowProfile,
    merge_windows,
)

DOCUMENT_FORMAT = "gatehouse.profiles"
JSON_MEDIA_TYPE = "application/json"
BINARY_MEDIA_TYPE = "application/vnd.gatehouse.profiles"
BINARY_MAGIC = b"GHPF"
BINARY_VERSION = 1
_HEADER = struct.Struct("<4sBBQ")
DOCUMENT_KEYS = {"format", "format_version", "batch_id", "version", "reference"}
DOCUMENT_KEYS |= {"windows"}
# A document holds at most this many windows (a month of hours, with room).
MAX_WINDOWS = 1000


def profiles_document(
    windows: Iterable[WindowProfile],
    *,
    batch_id: str,
    version: int | None = None,
    spec: ProfileSpec | None = None,
) -> dict[str, Any]:
    """The document of some window profiles (merged hour by hour)."""
    merged = merge_windows(windows)
    if len(merged) > MAX_WINDOWS:
        raise ValueError(f"at most {MAX_WINDOWS} windows per document: split them")
    document: dict[str, Any] = {
        "format": DOCUMENT_FORMAT,
        "format_version": WIRE_VERSION,
        "batch_id": batch_id,
    }
    if version is None and spec is not None:
        version = spec.version
    if version is not None:
        document["version"] = version
    if spec is not None and spec.reference is not None:
        document["reference"] = spec.reference
    document["windows"] = [window.to_dict() for window in merged]
    return document


def encode_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode()


def encode_binary(document: dict[str, Any]) -> bytes:
    text = encode_json(document)
    compressed = pa.compress(text, codec="zstd", asbytes=True)
    return _HEADER.pack(BINARY_MAGIC, BINARY_VERSION, 0, len(text)) + compressed


def decode_binary(body: bytes, *, max_bytes: int) -> bytes:
    """The JSON text inside a binary frame (at most ``max_bytes`` of it)."""
    if len(body) < _HEADER.size or body[:4] != BINARY_MAGIC:
        raise ProfileInvalid(
            "Not a binary profile document.",
            {"body": ["Must start with GHPF, the frame version and the length."]},
        )
    _, frame_version, reserved, length = _HEADER.unpack_from(body)
    if frame_version != BINARY_VERSION or reserved:
        raise ProfileInvalid(
            "Unknown binary frame version.",
            {"body": [f"Frame version {frame_version}; this portal reads 1."]},
        )
    if length > max_bytes:
        raise ProfileInvalid(
            "The document is too large.",
            {"body": [f"Declares {length} bytes of JSON; the limit is {max_bytes}."]},
        )
    try:
        text = pa.decompress(body[_HEADER.size :], length, codec="zstd", asbytes=True)
    except (OSError, ValueError, pa.ArrowException) as error:
        raise ProfileInvalid(
            "The binary frame does not decompress.",
            {"body": ["Not one zstd frame of the declared length."]},
        ) from error
    if len(text) != length:
        raise ProfileInvalid(
            "The binary frame does not decompress.",
            {"body": ["The JSON is not of the declared length."]},
        )
    return text


@dataclass
class Header:
    batch_id: Any
    version: Any
    reference: Any


def document_header(document: Any) -> Header:
    """The fields needed before the spec is known; checks the format."""
    if not isinstance(document, dict):
        raise ProfileInvalid(
            "The profile document was refused.",
            {"body": ["A JSON object with format, batch_id and windows."]},
        )
    errors = FieldErrors()
    if document.get("format") != DOCUMENT_FORMAT:
        errors.add("format", f"Must be {DOCUMENT_FORMAT!r}.")
    wire = document.get("format_version")
    if isinstance(wire, bool) or wire != WIRE_VERSION:
        errors.add(
            "format_version",
            f"Version {repr(wire)[:20]}: this portal reads version {WIRE_VERSION}.",
        )
    for key in document:
        if key not in DOCUMENT_KEYS:
            errors.add(str(key)[:50], "Unknown key.")
    windows = document.get("windows")
    if not isinstance(windows, list) or not windows:
        errors.add("windows", "Must be a non-empty list of window profiles.")
    elif len(windows) > MAX_WINDOWS:
        errors.add("windows", f"At most {MAX_WINDOWS} windows per document.")
    errors.raise_if_any("The profile document was refused.")
    return Header(
        batch_id=document.get("batch_id"),
        version=document.get("version"),
        reference=document.get("reference"),
    )


def read_windows(document: dict[str, Any], spec: ProfileSpec) -> list[WindowProfile]:
    """Every window of a document checked against ``spec`` and merged hour by
    hour; ``ProfileInvalid`` names every problem (nothing is half read)."""
    errors = FieldErrors()
    reference = document.get("reference")
    if reference is not None and reference != spec.reference:
        errors.add(
            "reference",
            f"Profiled on reference {repr(reference)[:20]}, but the version's "
            f"active reference is {spec.reference}: fetch the profile spec again.",
        )
    windows = []
    for index, raw in enumerate(document["windows"]):
        window = WindowProfile.from_dict(
            raw, spec, path=f"windows[{index}]", errors=errors
        )
        if window is not None:
            windows.append(window)
    errors.raise_if_any("The profile document was refused.")
    try:
        return merge_windows(windows)
    except (ValueError, TypeError) as error:  # pragma: no cover - checked above
        raise ProfileInvalid(
            "The profile document was refused.", {"windows": [str(error)]}
        ) from error
