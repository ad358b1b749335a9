"""The values the audit browser offers as filter choices: the actions, target
types and models that occur in the log (one query each)."""

from dataclasses import dataclass

from audit.access import VIEW_PERMISSION, audit_access_check
from audit.models import AuditEvent


@dataclass(frozen=True)
class AuditFilterValues:
    actions: list[str]
    target_types: list[str]
    scopes: list[str]


def _distinct(column: str) -> list[str]:
    values = (
        AuditEvent.objects.exclude(**{column: ""})
        .order_by(column)
        .values_list(column, flat=True)
        .distinct()
    )
    return list(values)


def audit_filter_values(*, actor) -> AuditFilterValues:
    audit_access_check(actor=actor, permission=VIEW_PERMISSION)
    return AuditFilterValues(
        actions=_distinct("action"),
        target_types=_distinct("target_type"),
        scopes=_distinct("scope"),
    )
