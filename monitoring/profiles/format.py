"""The stored form shared by both kinds of profile: its version and the checks
of the values read back from JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

PROFILE_FORMAT_VERSION = 1


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
