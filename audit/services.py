"""Recording audit events: the only code that writes to the audit table."""

from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from audit.canonical import (
    GENESIS_HASH,
    canonical_event_parts,
    canonical_json,
    chain_hash,
    format_timestamp,
)
from audit.context import current_context
from audit.errors import AuditPayloadInvalid
from audit.models import AuditCheckpoint, AuditEvent, ChainVerification
from audit.selectors import (
    CHECKPOINT_PERMISSION,
    EXPORT_PERMISSION,
    VERIFY_PERMISSION,
    VIEW_PERMISSION,
    ChainReport,
    audit_access_check,
    chain_head,
    chain_head_sequence,
)
from audit.signing import checkpoint_message, key_id, sign, signing_key
from kernel import db

# pg_advisory_xact_lock key serialising appends to the chain ("GATEHOUS" in ASCII).
CHAIN_LOCK_KEY = 0x4741544548_4F5553


_APPEND_SQL = "SELECT * FROM audit_append(" + ", ".join(["%s"] * 13) + ")"  # noqa: S608
_HEAD_SQL = (
    'SELECT sequence, hash FROM "audit_auditevent" ORDER BY sequence DESC LIMIT 1'
)
_INSERT_SQL = (
    'INSERT INTO "audit_auditevent" (sequence, timestamp, actor_id, actor_text, '
    "actor_ip, request_id, action, target_type, target_id, target_text, scope, "
    "payload_json, prev_hash, hash) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    # SQLite: the settings open every transaction with BEGIN IMMEDIATE, which
    # takes the database's single write lock; appends are serialised by it.


def describe_target(target: Model) -> tuple[str, str, str]:
    return (
        f"{target._meta.app_label}.{target._meta.model_name}",
        str(target.pk),
        str(target)[:300],
    )


def audit_record(
    *,
    actor,
    action: str,
    target: Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_text: str = "",
    payload: dict[str, Any] | None = None,
    actor_text: str | None = None,
    scope: str = "",
) -> AuditEvent:
    """Append one event to the audit chain inside the caller's transaction.

    Call it inside the service's ``transaction.atomic`` block, after the rows the
    service changes have been locked: the chain lock is taken here and held until
    the outermost transaction commits or rolls back (lock order: business rows,
    then the chain). If the business change rolls back, so does the event.
    ``scope`` is the slug of the registered model the event belongs to, if any.
    """
    if target is not None:
        target_type, target_id, target_text = describe_target(target)
    try:
        payload_json = canonical_json(payload if payload is not None else {})
    except (TypeError, ValueError) as error:
        raise AuditPayloadInvalid(
            f"audit payload is not canonical JSON: {error}"
        ) from error
    is_person = actor is not None and getattr(actor, "is_authenticated", False)
    if actor_text is None:
        actor_text = actor.get_username() if is_person else "system"
    context = current_context()

    event = AuditEvent(
        actor=actor if is_person else None,
        actor_text=actor_text[:300],
        actor_ip=context.ip,
        request_id=context.request_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:100],
        target_text=target_text[:300],
        scope=scope,
        payload_json=payload_json,
    )
    head, middle = canonical_event_parts(
        actor_id=event.actor_id,
        actor_text=event.actor_text,
        actor_ip=event.actor_ip,
        request_id=event.request_id,
        scope=scope,
        action=action,
        target_type=event.target_type,
        target_id=event.target_id,
        target_text=event.target_text,
        payload_json=payload_json,
    )
    # The chain lock is held until the outermost transaction ends, so the work
    # done under it bounds the portal's write rate: on PostgreSQL one statement
    # (migration 0005) takes the lock, reads the head, hashes and inserts. Outside
    # an atomic block that statement is its own transaction.
    described = [
        event.actor_id,
        event.actor_text,
        event.actor_ip,
        event.request_id,
        event.action,
        event.target_type,
        event.target_id,
        event.target_text,
        event.scope,
        event.payload_json,
    ]
    if connection.vendor == "postgresql":
        # Prepared once per connection (kernel.db): every write ends here.
        found = db.rows(_APPEND_SQL, [CHAIN_LOCK_KEY, *described, head, middle])
        event.sequence, event.timestamp, event.prev_hash, event.hash = found[0]
        event._state.adding = False
        return event
    # SQLite: the settings open every transaction with BEGIN IMMEDIATE, which
    # takes the database's single write lock; appends are serialised by it.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_HEAD_SQL)
        row = cursor.fetchone()
        event.sequence, event.prev_hash = (
            (row[0] + 1, row[1]) if row else (1, GENESIS_HASH)
        )
        # Taken under the lock so timestamps never run backwards along the chain.
        event.timestamp = timezone.now()
        event.hash = chain_hash(
            event.prev_hash,
            head
            + str(event.sequence)
            + middle
            + format_timestamp(event.timestamp)
            + '"}',
        )
        cursor.execute(
            _INSERT_SQL,
            [
                event.sequence,
                connection.ops.adapt_datetimefield_value(event.timestamp),
                *described,
                event.prev_hash,
                event.hash,
            ],
        )
    event._state.adding = False
    return event


def chain_verification_record(*, report: ChainReport) -> ChainVerification:
    """Keep the result of a verification run (not an audit event: nothing changed)."""
    return ChainVerification.objects.create(
        started_at=report.started_at,
        finished_at=report.finished_at,
        event_count=report.event_count,
        head_sequence=report.head_sequence,
        head_hash=report.head_hash,
        is_intact=report.is_intact,
        first_broken_sequence=report.first_broken_sequence,
        problem=report.problem,
    )


EXPORT_FORMATS = ("csv", "checkpoints", "event-range")


def audit_export_record(
    *, actor, export_format: str, details: dict[str, Any] | None = None
) -> int:
    """Record that the actor exports part of the audit log; return the head.

    Called before the first byte is streamed, when the row count is not yet
    known: the event holds the format, the export's own details (filters, a
    range) and ``head_sequence``, the newest event the export may contain. The
    export then reads only events up to that head, so it says exactly what was
    handed out, and does not include the export's own event.
    """
    audit_access_check(actor=actor, permission=VIEW_PERMISSION)
    audit_access_check(actor=actor, permission=EXPORT_PERMISSION)
    if export_format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {export_format!r}")
    with transaction.atomic():
        head_sequence = chain_head_sequence()
        audit_record(
            actor=actor,
            action="audit.exported",
            payload={
                "format": export_format,
                **(details or {}),
                "head_sequence": head_sequence,
            },
        )
    return head_sequence


def chain_verification_request(*, actor) -> None:
    """Queue a full verification of the chain once the caller's transaction
    commits (the result lands in ChainVerification)."""
    audit_access_check(actor=actor, permission=VERIFY_PERMISSION)
    # Imported here: audit.tasks imports this module.
    from audit.tasks import audit_chain_verify_task

    transaction.on_commit(audit_chain_verify_task.delay)


def audit_checkpoint_create() -> AuditCheckpoint | None:
    """Sign the chain's current head and keep it, unless it is already signed.

    Returns None when the log is empty or the head has not moved since the last
    checkpoint. Raises ``AuditSigningKeyUnavailable`` when there is no key.
    Not itself an audit event: recording one would move the head and call for
    another checkpoint an hour later, for ever. Holds the chain lock while it
    reads and signs the head, so two runs never sign the same head twice and
    the signed head is the committed newest event.
    """
    private_key = signing_key()
    with transaction.atomic():
        _lock_chain()
        return _sign_head(private_key)


def audit_checkpoint_take(*, actor) -> AuditCheckpoint:
    """Sign a checkpoint now, at a person's request (auditors, platform admins).

    The request is an audit event (``audit.checkpoint_taken``), and the
    checkpoint signs that event: the head it vouches for records who asked.
    The hourly task then finds the head signed and adds nothing. Raises
    ``AuditSigningKeyUnavailable`` (and records nothing) when there is no key.
    """
    audit_access_check(actor=actor, permission=VIEW_PERMISSION)
    audit_access_check(actor=actor, permission=CHECKPOINT_PERMISSION)
    private_key = signing_key()
    with transaction.atomic():
        _lock_chain()
        audit_record(
            actor=actor,
            action="audit.checkpoint_taken",
            payload={"key_id": key_id(private_key.public_key())},
        )
        checkpoint = _sign_head(private_key)
    # The head is the event just recorded, never already signed.
    assert checkpoint is not None  # noqa: S101
    return checkpoint


def _sign_head(private_key) -> AuditCheckpoint | None:
    """Sign the head; call with the chain lock held."""
    head = chain_head()
    if head is None:
        return None
    sequence, head_hash = head
    last_signed = (
        AuditCheckpoint.objects.order_by("-sequence")
        .values_list("sequence", flat=True)
        .first()
    )
    if last_signed is not None and last_signed >= sequence:
        return None
    created_at = timezone.now()
    message = checkpoint_message(
        sequence=sequence,
        head_hash=head_hash,
        time=format_timestamp(created_at),
    )
    return AuditCheckpoint.objects.create(
        sequence=sequence,
        head_hash=head_hash,
        created_at=created_at,
        signature=sign(private_key, message),
        key_id=key_id(private_key.public_key()),
    )
