"""Signed checkpoints of the chain's head, each checked against the portal's
public key and against the log."""

from dataclasses import dataclass

from audit.access import VIEW_PERMISSION, audit_access_check
from audit.canonical import format_timestamp
from audit.models import AuditCheckpoint, AuditEvent
from audit.selectors.events import PAGE_SIZE
from audit.signing import checkpoint_message, key_id, signature_is_valid


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
