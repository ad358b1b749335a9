"""The stored form shared by both kinds of profile: its version and the checks
of the values read back from JSON.

Versions: 1, the first; 2 adds the categorical profile's tail sketch (``tail``,
hash buckets of the categories outside the vocabulary). Every stored version
loads: a version-1 categorical profile keeps its single ``__other__`` count, and
the windows compared with a version-1 reference are profiled on its layout.
Numeric profiles are the same in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

PROFILE_FORMAT_VERSION = 2


def format_version(data: dict[str, Any]) -> int:
    """The stored profile's format version (1 when it predates the field)."""
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError("version must be an integer")
    if not 1 <= version <= PROFILE_FORMAT_VERSION:
        raise ValueError(
            f"profile format version {version} is not one this code reads "
            f"(1 to {PROFILE_FORMAT_VERSION})"
        )
    return version


def optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)


def int_array(values: Sequence[Any]) -> np.ndarray:
    array = np.asarray(values)
    if array.size and array.dtype.kind not in "iu":
        raise ValueError("counts must be integers")
    return array.astype(np.int64, copy=False)


def non_negative_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return int(value)
