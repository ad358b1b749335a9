"""Reads of the audit log that need more than one query."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from audit.canonical import GENESIS_HASH, canonical_event, chain_hash, format_timestamp
from audit.models import AuditEvent

_VERIFY_COLUMNS = (
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
            timestamp=format_timestamp(timestamp),
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
    rows = (
        AuditEvent.objects.order_by("sequence")
        .values_list(*_VERIFY_COLUMNS)
        .iterator(chunk_size=chunk_size)
    )
    # One transaction, so PostgreSQL's server-side cursor sees one snapshot.
    with transaction.atomic(using=connection.alias):
        for row in rows:
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
