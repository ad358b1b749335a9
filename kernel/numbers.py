"""Numbers as people read them, the same on every page, report and e-mail."""

import math
from typing import Any


def number(value) -> str:
    """A metric: four decimals at most, no trailing zeros, thousands separated."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value == 0 or 0.0001 <= abs(value) < 1_000_000:
            return f"{value:,.4f}".rstrip("0").rstrip(".")
        return f"{value:.4g}"
    return str(value)


def signed(value: float) -> str:
    """A difference, with its sign: ``+0.02``, ``-1.5``, ``0``."""
    text = number(abs(value))
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"-{text}"
    return "0"


def percent(value, *, digits: int = 1) -> str:
    """A share (0.123) as a percentage (``12.3%``)."""
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


def is_finite_number(value: Any) -> bool:
    """A real number as JSON sends one: an int or float, finite, not a bool
    (``True`` is an int to Python); a huge int that overflows a float is not."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
