"""Verifying the hash chain: recompute every event's hash in sequence order
and report the first broken link; the chain's head; the verification runs."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from audit.access import VIEW_VERIFICATIONS_PERMISSION, audit_access_check
from audit.canonical import GENESIS_HASH, canonical_event, chain_hash, format_timestamp
from audit.models import AuditEvent, ChainVerification

# The AuditEvent columns an outside verifier needs to recompute the chain, in the
# order of exports (docs/audit-hash.md, docs/audit-checkpoints.md).
EXPORT_COLUMNS = (
    "sequence",
    "timestamp",
    "actor_id",
    "actor_text",
    "actor_ip",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target_text",
    "scope",
    "payload_json",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class ChainReport:
    started_at: datetime
    finished_at: datetime
    event_count: int
    head_sequence: int | None
    head_hash: str
    first_broken_sequence: int | None
    problem: str

    @property
    def is_intact(self) -> bool:
        return self.first_broken_sequence is None


def _first_problem(row, expected_sequence: int, expected_prev: str) -> str:
    (sequence, timestamp, actor_id, actor_text, actor_ip, request_id, action,
     target_type, target_id, target_text, scope, payload_json, prev_hash,
     stored_hash) = row  # fmt: skip
    if sequence != expected_sequence:
        return f"expected event {expected_sequence} next, found {sequence}: a gap"
    if prev_hash != expected_prev:
        return "prev_hash does not match the previous event's hash"
    computed = chain_hash(
        prev_hash,
        canonical_event(
            sequence=sequence,
            timestamp=timestamp
            if isinstance(timestamp, str)
            else format_timestamp(timestamp),
            actor_id=actor_id,
            actor_text=actor_text,
            actor_ip=actor_ip,
            request_id=request_id,
            scope=scope,
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_text=target_text,
            payload_json=payload_json,
        ),
    )
    if computed != stored_hash:
        return "the event's content does not match its hash (edited after writing)"
    return ""


def _verify_rows(chunk_size: int) -> Iterator[tuple]:
    """Rows in sequence order. On PostgreSQL, read through a named (server-side)
    cursor with the timestamp already formatted as the canonical UTC text: parsing
    and re-formatting datetimes was over half of the verification time."""
    if connection.vendor != "postgresql":
        yield from (
            AuditEvent.objects.order_by("sequence")
            .values_list(*EXPORT_COLUMNS)
            .iterator(chunk_size=chunk_size)
        )
        return
    columns = ", ".join(
        """to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        if column == "timestamp"
        else f'"{column}"'
        for column in EXPORT_COLUMNS
    )
    table = AuditEvent._meta.db_table
    connection.ensure_connection()
    with connection.connection.cursor(name="audit_chain_verify") as cursor:
        cursor.itersize = chunk_size
        cursor.execute(f'SELECT {columns} FROM "{table}" ORDER BY "sequence"')  # noqa: S608
        yield from cursor


def audit_chain_verify(*, chunk_size: int = 5000) -> ChainReport:
    """Recompute the whole chain and report the first broken link, if any.

    Reads in sequence order through a server-side cursor, so memory stays flat
    whatever the length of the chain.
    """
    started_at = timezone.now()
    count = 0
    expected_prev = GENESIS_HASH
    head_sequence = None
    broken_at = None
    problem = ""
    # One transaction, so PostgreSQL's server-side cursor sees one snapshot.
    with transaction.atomic(using=connection.alias):
        for row in _verify_rows(chunk_size):
            count += 1
            if broken_at is None:
                problem = _first_problem(row, count, expected_prev)
                if problem:
                    broken_at = row[0]
            expected_prev = row[-1]
            head_sequence = row[0]
    return ChainReport(
        started_at=started_at,
        finished_at=timezone.now(),
        event_count=count,
        head_sequence=head_sequence,
        head_hash=expected_prev if count else "",
        first_broken_sequence=broken_at,
        problem=problem,
    )


def chain_head() -> tuple[int, str] | None:
    return (
        AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
    )


def chain_head_sequence() -> int:
    """The sequence of the newest event, 0 for an empty log."""
    head = chain_head()
    return head[0] if head else 0


def chain_verification_list(*, actor, limit: int = 50) -> list[ChainVerification]:
    audit_access_check(actor=actor, permission=VIEW_VERIFICATIONS_PERMISSION)
    return list(ChainVerification.objects.order_by("-finished_at", "-pk")[:limit])


def event_hash(event: AuditEvent) -> str:
    return chain_hash(
        event.prev_hash,
        canonical_event(
            sequence=event.sequence,
            timestamp=format_timestamp(event.timestamp),
            actor_id=event.actor_id,
            actor_text=event.actor_text,
            actor_ip=event.actor_ip,
            request_id=event.request_id,
            scope=event.scope,
            action=event.action,
            target_type=event.target_type,
            target_id=event.target_id,
            target_text=event.target_text,
            payload_json=event.payload_json,
        ),
    )
