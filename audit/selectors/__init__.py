"""Reads of the audit log that need more than one query."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone

from audit.canonical import GENESIS_HASH, canonical_event, chain_hash, format_timestamp
from audit.models import AuditCheckpoint, AuditEvent, ChainVerification
from audit.signing import checkpoint_message, key_id, signature_is_valid

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
            .values_list(*_VERIFY_COLUMNS)
            .iterator(chunk_size=chunk_size)
        )
        return
    columns = ", ".join(
        """to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        if column == "timestamp"
        else f'"{column}"'
        for column in _VERIFY_COLUMNS
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


# --- The auditor's desk: browsing, exporting, checkpoints -------------------------

VIEW_PERMISSION = "audit.view_auditevent"
EXPORT_PERMISSION = "audit.export_auditevent"
VERIFY_PERMISSION = "audit.verify_auditevent"
VIEW_VERIFICATIONS_PERMISSION = "audit.view_chainverification"

PAGE_SIZE = 50
EXPORT_CHUNK_SIZE = 2000

# The AuditEvent columns an outside verifier needs to recompute the chain, in the
# order of exports (docs/audit-hash.md, docs/audit-checkpoints.md).
EXPORT_COLUMNS = _VERIFY_COLUMNS

_LIST_COLUMNS = (
    "sequence",
    "timestamp",
    "actor_text",
    "action",
    "target_type",
    "target_id",
    "target_text",
    "scope",
)


def audit_access_check(*, actor, permission: str) -> None:
    """Raise Http404 unless the actor holds the global audit permission.

    Not found rather than forbidden: people without audit rights are not told
    which audit pages exist.
    """
    if not (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.has_perm(permission)
    ):
        raise Http404("No such page.")


def audit_actor_may(*, actor, permission: str) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.has_perm(permission)
    )


@dataclass(frozen=True)
class AuditEventFilters:
    """What an auditor filters the log by; empty values filter nothing.

    ``action`` matches exactly, or as a prefix when it ends with a dot
    (``token.`` matches ``token.created`` and ``token.revoked``). ``since`` and
    ``until`` are inclusive, timezone-aware bounds on the event's timestamp.
    """

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    scope: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def as_payload(self) -> dict[str, str]:
        """The filters as JSON for an audit event (only those that are set)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "model": self.scope,
            "since": format_timestamp(self.since) if self.since else "",
            "until": format_timestamp(self.until) if self.until else "",
        }
        return {key: value for key, value in values.items() if value}


def _filtered_events(filters: AuditEventFilters):
    events = AuditEvent.objects.all()
    if filters.actor:
        events = events.filter(actor_text=filters.actor)
    if filters.action.endswith("."):
        events = events.filter(action__startswith=filters.action)
    elif filters.action:
        events = events.filter(action=filters.action)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.target_id:
        events = events.filter(target_id=filters.target_id)
    if filters.scope:
        events = events.filter(scope=filters.scope)
    if filters.since is not None:
        events = events.filter(timestamp__gte=filters.since)
    if filters.until is not None:
        events = events.filter(timestamp__lte=filters.until)
    return events


@dataclass(frozen=True)
class AuditEventPage:
    """One page of events, newest first, with the keys of its neighbour pages.

    ``older_before`` is the ``before=`` value of the next older page and
    ``newer_after`` the ``after=`` value of the next newer page; None when there
    is no such page.
    """

    events: list[AuditEvent]
    older_before: int | None
    newer_after: int | None


def audit_event_list(
    *,
    actor,
    filters: AuditEventFilters,
    before: int | None = None,
    after: int | None = None,
    page_size: int = PAGE_SIZE,
) -> AuditEventPage:
    """Return one keyset page of matching events, newest first.

    ``before=n`` gives the newest matching events with a sequence below n,
    ``after=n`` the oldest ones above n (shown newest first); neither gives the
    newest page. Two queries whatever the page: the page itself (one row more
    than shown, to learn whether the page in its direction exists) and an
    EXISTS for the page in the other direction. Never an OFFSET, so the last
    page costs what the first does.
    """
    audit_access_check(actor=actor, permission=VIEW_PERMISSION)
    if before is not None and after is not None:
        raise ValueError("give before or after, not both")
    events = _filtered_events(filters)
    listed = events.only(*_LIST_COLUMNS)
    if after is not None:
        rows = list(
            listed.filter(sequence__gt=after).order_by("sequence")[: page_size + 1]
        )
        has_newer = len(rows) > page_size
        rows = rows[:page_size]
        rows.reverse()
        if rows:
            newer_after = rows[0].sequence if has_newer else None
            oldest = rows[-1].sequence
            has_older = events.filter(sequence__lt=oldest).exists()
            older_before = oldest if has_older else None
        else:
            newer_after = None
            has_older = events.filter(sequence__lte=after).exists()
            older_before = after + 1 if has_older else None
        return AuditEventPage(rows, older_before, newer_after)

    page = listed if before is None else listed.filter(sequence__lt=before)
    rows = list(page.order_by("-sequence")[: page_size + 1])
    has_older = len(rows) > page_size
    rows = rows[:page_size]
    if rows:
        older_before = rows[-1].sequence if has_older else None
        newest = rows[0].sequence
        has_newer = before is not None and events.filter(sequence__gt=newest).exists()
        newer_after = newest if has_newer else None
    else:
        older_before = None
        has_newer = before is not None and events.filter(sequence__gte=before).exists()
        newer_after = before - 1 if has_newer else None
    return AuditEventPage(rows, older_before, newer_after)


@dataclass(frozen=True)
class AuditEventDetail:
    event: AuditEvent
    previous_sequence: int | None
    next_sequence: int | None
    # This event's stored hash equals the hash recomputed from its columns.
    hash_recomputes: bool
    # Its prev_hash equals the previous event's hash (None for the first event).
    links_to_previous: bool | None


def audit_event_get(*, actor, sequence: int) -> AuditEventDetail:
    """Return one event with its neighbours along the chain (two queries)."""
    audit_access_check(actor=actor, permission=VIEW_PERMISSION)
    event = AuditEvent.objects.filter(sequence=sequence).first()
    if event is None:
        raise Http404("No such audit event.")
    neighbours = dict(
        AuditEvent.objects.filter(
            sequence__in=[sequence - 1, sequence + 1]
        ).values_list("sequence", "hash")
    )
    previous_hash = neighbours.get(sequence - 1)
    if sequence == 1:
        links_to_previous = event.prev_hash == GENESIS_HASH
    else:
        links_to_previous = (
            None if previous_hash is None else previous_hash == event.prev_hash
        )
    return AuditEventDetail(
        event=event,
        previous_sequence=sequence - 1 if previous_hash is not None else None,
        next_sequence=sequence + 1 if sequence + 1 in neighbours else None,
        hash_recomputes=_event_hash(event) == event.hash,
        links_to_previous=links_to_previous,
    )


def _event_hash(event: AuditEvent) -> str:
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
        _filtered_events(filters), after=0, up_to=up_to, chunk_size=chunk_size
    )


def chain_head_sequence() -> int:
    """The sequence of the newest event, 0 for an empty log."""
    head = chain_head()
    return head[0] if head else 0


def chain_verification_list(*, actor, limit: int = 50) -> list[ChainVerification]:
    audit_access_check(actor=actor, permission=VIEW_VERIFICATIONS_PERMISSION)
    return list(ChainVerification.objects.order_by("-finished_at", "-pk")[:limit])


# --- Checkpoints ------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointRow:
    checkpoint: AuditCheckpoint
    # The signature verifies with the portal's current public key; None when
    # the checkpoint was signed by another key or no key is configured.
    signature_is_valid: bool | None
    # The event at the checkpoint's sequence still has the checkpointed hash.
    matches_log: bool


@dataclass(frozen=True)
class CheckpointPage:
    rows: list[CheckpointRow]
    # before= value of the next older page, None on the oldest page.
    older_before: int | None


def checkpoint_signed_message(checkpoint: AuditCheckpoint) -> bytes:
    return checkpoint_message(
        sequence=checkpoint.sequence,
        head_hash=checkpoint.head_hash,
        time=format_timestamp(checkpoint.created_at),
    )


def audit_checkpoint_list(
    *,
    actor,
    public_key=None,
    before: int | None = None,
    page_size: int = PAGE_SIZE,
) -> CheckpointPage:
    """Checkpoints newest first (keyset on sequence), each checked against the
    given public key and against the log. Two queries."""
    audit_access_check(actor=actor, permission=VIEW_PERMISSION)
    checkpoints = AuditCheckpoint.objects.order_by("-sequence")
    if before is not None:
        checkpoints = checkpoints.filter(sequence__lt=before)
    page = list(checkpoints[: page_size + 1])
    has_older = len(page) > page_size
    page = page[:page_size]
    logged = dict(
        AuditEvent.objects.filter(
            sequence__in=[checkpoint.sequence for checkpoint in page]
        ).values_list("sequence", "hash")
    )
    current_key_id = key_id(public_key) if public_key is not None else None
    rows = []
    for checkpoint in page:
        if current_key_id is None or checkpoint.key_id != current_key_id:
            is_valid = None
        else:
            is_valid = signature_is_valid(
                public_key, checkpoint_signed_message(checkpoint), checkpoint.signature
            )
        rows.append(
            CheckpointRow(
                checkpoint=checkpoint,
                signature_is_valid=is_valid,
                matches_log=logged.get(checkpoint.sequence) == checkpoint.head_hash,
            )
        )
    return CheckpointPage(
        rows=rows, older_before=page[-1].sequence if has_older else None
    )


def audit_checkpoint_find(*, actor, sequence: int) -> AuditCheckpoint | None:
    audit_access_check(actor=actor, permission=VIEW_PERMISSION)
    return AuditCheckpoint.objects.filter(sequence=sequence).first()


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
