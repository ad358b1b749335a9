"""Reads of the audit log: browsing (``events``), verifying the chain
(``chain``), checkpoints (``checkpoints``) and the rows of downloads
(``export_rows``). Who may read them is ``audit.access``."""

from audit.access import (
    CHECKPOINT_PERMISSION,
    EXPORT_PERMISSION,
    VERIFY_PERMISSION,
    VIEW_PERMISSION,
    VIEW_VERIFICATIONS_PERMISSION,
    audit_access_check,
    audit_actor_may,
)
from audit.selectors.chain import (
    EXPORT_COLUMNS,
    ChainReport,
    audit_chain_verify,
    chain_head,
    chain_head_sequence,
    chain_verification_list,
)
from audit.selectors.checkpoints import (
    CheckpointPage,
    CheckpointRow,
    audit_checkpoint_find,
    audit_checkpoint_list,
    checkpoint_signed_message,
)
from audit.selectors.events import (
    PAGE_SIZE,
    AuditEventDetail,
    AuditEventFilters,
    AuditEventPage,
    audit_event_get,
    audit_event_list,
)
from audit.selectors.export_rows import (
    EXPORT_CHUNK_SIZE,
    audit_checkpoint_export_rows,
    audit_event_export_rows,
    audit_event_range_rows,
)

__all__ = [
    "CHECKPOINT_PERMISSION",
    "EXPORT_CHUNK_SIZE",
    "EXPORT_COLUMNS",
    "EXPORT_PERMISSION",
    "PAGE_SIZE",
    "VERIFY_PERMISSION",
    "VIEW_PERMISSION",
    "VIEW_VERIFICATIONS_PERMISSION",
    "AuditEventDetail",
    "AuditEventFilters",
    "AuditEventPage",
    "ChainReport",
    "CheckpointPage",
    "CheckpointRow",
    "audit_access_check",
    "audit_actor_may",
    "audit_chain_verify",
    "audit_checkpoint_export_rows",
    "audit_checkpoint_find",
    "audit_checkpoint_list",
    "audit_event_export_rows",
    "audit_event_get",
    "audit_event_list",
    "audit_event_range_rows",
    "chain_head",
    "chain_head_sequence",
    "chain_verification_list",
    "checkpoint_signed_message",
]
