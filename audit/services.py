"""Recording audit events: the only code that writes to the audit table."""

from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from audit.canonical import (
    GENESIS_HASH,
    canonical_event,
    canonical_json,
    chain_hash,
    format_timestamp,
)
from audit.context import current_context
from audit.errors import AuditPayloadInvalid
from audit.models import AuditEvent, ChainVerification
from audit.selectors import ChainReport

# pg_advisory_xact_lock key serialising appends to the chain ("GATEHOUS" in ASCII).
CHAIN_LOCK_KEY = 0x4741544548_4F5553


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

    with transaction.atomic(savepoint=False):
        _lock_chain()
        head = (
            AuditEvent.objects.order_by("-sequence")
            .values_list("sequence", "hash")
            .first()
        )
        sequence, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        # Taken under the lock so timestamps never run backwards along the chain.
        timestamp = timezone.now()
        event = AuditEvent(
            sequence=sequence,
            timestamp=timestamp,
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
            prev_hash=prev_hash,
        )
        event.hash = chain_hash(
            prev_hash,
            canonical_event(
                sequence=sequence,
                timestamp=format_timestamp(timestamp),
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
            ),
        )
        event.save(force_insert=True)
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
