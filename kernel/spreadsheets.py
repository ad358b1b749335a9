"""CSV cells that a spreadsheet will not run as formulas (CSV injection)."""

import json
from typing import Any

# Cells a spreadsheet would run as a formula get a leading apostrophe: names,
# comments, payloads and a failed login's username are typed by people.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """One cell as text: empty for None, JSON for lists and dicts, guarded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
