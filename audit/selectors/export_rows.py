"""Rows for downloads, oldest first, read in keyset chunks so memory stays
flat: filtered events, the events between two checkpoints, the checkpoints."""

from collections.abc import Iterator

from audit.access import EXPORT_PERMISSION, audit_access_check
from audit.canonical import format_timestamp
from audit.models import AuditCheckpoint, AuditEvent
from audit.selectors.chain import EXPORT_COLUMNS
from audit.selectors.events import AuditEventFilters, filtered_events

EXPORT_CHUNK_SIZE = 2000


def _rows_in_chunks(events, *, after: int, up_to: int, chunk_size: int) -> Iterator:
    """Yield EXPORT_COLUMNS tuples in sequence order, one keyset query per chunk."""
    last = after
    while True:
        chunk = list(
            events.filter(sequence__gt=last, sequence__lte=up_to)
            .order_by("sequence")
            .values_list(*EXPORT_COLUMNS)[:chunk_size]
        )
        yield from chunk
        if len(chunk) < chunk_size:
            return
        last = chunk[-1][0]


def audit_event_export_rows(
    *,
    actor,
    filters: AuditEventFilters,
    up_to: int,
    chunk_size: int = EXPORT_CHUNK_SIZE,
) -> Iterator[tuple]:
    """Every event matching the filters with sequence <= up_to, oldest first.

    The permission is checked now, not when the rows are first read.
    """
    audit_access_check(actor=actor, permission=EXPORT_PERMISSION)
    return _rows_in_chunks(
        filtered_events(filters), after=0, up_to=up_to, chunk_size=chunk_size
    )


def audit_event_range_rows(
    *, actor, from_sequence: int, to_sequence: int, chunk_size: int = EXPORT_CHUNK_SIZE
) -> Iterator[tuple]:
    """Events from_sequence < sequence <= to_sequence, oldest first, as
    EXPORT_COLUMNS tuples: the events between two checkpoints."""
    audit_access_check(actor=actor, permission=EXPORT_PERMISSION)
    return _rows_in_chunks(
        AuditEvent.objects.all(),
        after=from_sequence,
        up_to=to_sequence,
        chunk_size=chunk_size,
    )


def audit_checkpoint_export_rows(*, actor) -> Iterator[dict]:
    """Every checkpoint, oldest first, as the JSON objects of the export."""
    audit_access_check(actor=actor, permission=EXPORT_PERMISSION)
    checkpoints = AuditCheckpoint.objects.order_by("sequence").iterator(
        chunk_size=EXPORT_CHUNK_SIZE
    )
    return (
        {
            "sequence": checkpoint.sequence,
            "hash": checkpoint.head_hash,
            "time": format_timestamp(checkpoint.created_at),
            "key_id": checkpoint.key_id,
            "signature": checkpoint.signature,
        }
        for checkpoint in checkpoints
    )
