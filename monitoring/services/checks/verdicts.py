"""A check's verdict on one subject of one window, before it is stored as a
``CheckResult``; the statuses and severities checks use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitoring.models import CheckSeverity

OK = "ok"
INSUFFICIENT = "insufficient_data"
NO_REFERENCE = "no_reference"
NO_BASELINE = "no_baseline"
NO_DATA = "no_data"

NONE = CheckSeverity.NONE
WARNING = CheckSeverity.WARNING
CRITICAL = CheckSeverity.CRITICAL


@dataclass
class Verdict:
    check: str
    subject: str
    status: str
    severity: str = NONE
    score: float | None = None
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_failing(self) -> bool:
        return self.severity != NONE

    @property
    def is_passing(self) -> bool:
        return self.status == OK and self.severity == NONE


def finite(value):
    if value is None:
        return None
    value = float(value)
    return value if value == value and abs(value) != float("inf") else None
