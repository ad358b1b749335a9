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


# LLM costs are recorded in US dollars (eval harnesses' per-case cost, the
# ``cost`` of LLM call records); one symbol for them on every page.
CURRENCY = "US$"


def money(value) -> str:
    """An amount of US dollars: ``US$0.0029``, ``US$1,234.5``, ``-US$0.5``.
    The digits of :func:`number`, but never in scientific notation (a call
    can cost less than a hundredth of a cent)."""
    if value is None or isinstance(value, bool):
        return "—"
    amount = abs(value)
    if isinstance(value, float) and math.isnan(value):
        return "—"
    if 0 < amount < 0.0001:
        digits = f"{amount:.8f}".rstrip("0").rstrip(".")
        if digits == "0":  # below what any price list charges
            return f"<{CURRENCY}0.00000001"
    elif amount >= 1_000_000:
        digits = f"{amount:,.0f}"
    else:
        digits = number(float(amount))
    return f"{'-' if value < 0 else ''}{CURRENCY}{digits}"


def signed_money(value) -> str:
    """A difference of US dollars, with its sign: ``+US$0.0002``, ``US$0``."""
    if value is None:
        return "—"
    text = money(value)
    return f"+{text}" if value > 0 else text


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
