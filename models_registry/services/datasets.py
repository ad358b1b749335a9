"""Dataset snapshots: immutable, idempotent by sha256 within a team."""

from datetime import datetime

from django.db import transaction

from audit.services import audit_record
from kernel.models import Team
from kernel.roles import (
    PLATFORM_ADMIN,
    is_team_member,
    user_has_role,
)
from models_registry import validation
from models_registry.errors import (
    RegistryConflict,
    RegistryPermissionDenied,
)
from models_registry.models import (
    DatasetSnapshot,
)
from models_registry.selectors import dataset_list
from models_registry.services.preconditions import (
    FieldErrors,
)


def dataset_snapshot_create(
    *,
    actor,
    team: Team,
    name: str,
    uri: str,
    sha256: str,
    row_count: int,
    schema: list,
    time_column: str = "",
    time_range_start: datetime | None = None,
    time_range_end: datetime | None = None,
    pii_columns: list | None = None,
    parents: list[DatasetSnapshot] | None = None,
) -> tuple[DatasetSnapshot, bool]:
    """Record an immutable snapshot; re-sending the same sha256 returns the first."""
    if not (
        actor.has_perm("models_registry.add_datasetsnapshot")
        and (is_team_member(actor, team) or user_has_role(actor, PLATFORM_ADMIN))
    ):
        raise RegistryPermissionDenied(
            "Only data scientists of the team record its datasets."
        )
    pii_columns = pii_columns or []
    parents = parents or []
    errors = FieldErrors()
    if not name or not name.strip():
        errors.add("name", "Required.")
    errors.add("name", validation.secret_errors(name))
    errors.add("uri", validation.uri_errors(uri))
    errors.add("sha256", validation.sha256_errors(sha256))
    if not isinstance(row_count, int) or isinstance(row_count, bool) or row_count < 0:
        errors.add("row_count", "Must be a whole number, zero or more.")
    errors.add("schema", validation.schema_errors(schema))
    if not errors.fields.get("schema"):
        errors.add("pii_columns", validation.pii_errors(pii_columns, schema))
        names = {column["name"] for column in schema}
        if time_column and time_column not in names:
            errors.add("time_column", f"“{time_column}” is not a column of the schema.")
    if time_range_start and time_range_end and time_range_start > time_range_end:
        errors.add("time_range_end", "Must not be before the start.")
    visible = set(
        dataset_list(actor=actor)
        .filter(pk__in=[parent.pk for parent in parents])
        .values_list("pk", flat=True)
    )
    if any(parent.pk not in visible for parent in parents):
        errors.add("parents", "Parents must be snapshots you can see.")
    errors.raise_if_any("The dataset snapshot was not recorded.")
    with transaction.atomic():
        existing = DatasetSnapshot.objects.filter(team=team, sha256=sha256).first()
        if existing is not None:
            if (existing.uri, existing.row_count) != (uri, row_count):
                raise RegistryConflict(
                    "The dataset snapshot was not recorded.",
                    fields={
                        "sha256": [
                            f"Snapshot “{existing.name}” has this sha256 with a "
                            "different URI or row count."
                        ]
                    },
                )
            return existing, False
        snapshot = DatasetSnapshot.objects.create(
            team=team,
            name=name.strip(),
            uri=uri,
            sha256=sha256,
            row_count=row_count,
            schema=schema,
            time_column=time_column,
            time_range_start=time_range_start,
            time_range_end=time_range_end,
            pii_columns=pii_columns,
            created_by=actor,
        )
        if parents:
            snapshot.parents.add(*parents)
        audit_record(
            actor=actor,
            action="dataset.recorded",
            target=snapshot,
            payload={
                "team": team.slug,
                "name": snapshot.name,
                "uri": uri,
                "sha256": sha256,
                "row_count": row_count,
                "pii_columns": pii_columns,
                "parents": [parent.pk for parent in parents],
            },
        )
    return snapshot, True
