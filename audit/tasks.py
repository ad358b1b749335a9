import logging

from celery import shared_task

from audit.selectors import audit_chain_verify
from audit.services import audit_checkpoint_create, chain_verification_record
from audit.signing import AuditSigningKeyUnavailable

logger = logging.getLogger(__name__)


@shared_task(name="audit.tasks.audit_chain_verify_task")
def audit_chain_verify_task() -> int:
    """Verify the whole chain and keep the result; returns the verification id."""
    report = audit_chain_verify()
    if not report.is_intact:
        logger.error(
            "audit chain broken at event %s: %s",
            report.first_broken_sequence,
            report.problem,
        )
    return chain_verification_record(report=report).pk


@shared_task(name="audit.tasks.audit_checkpoint_task")
def audit_checkpoint_task() -> int | None:
    """Sign the chain's head if it moved; returns the new checkpoint's id.

    Without a signing key it logs why and returns None: retrying cannot help,
    and the rest of the portal keeps working.
    """
    try:
        checkpoint = audit_checkpoint_create()
    except AuditSigningKeyUnavailable as error:
        logger.error("audit checkpoint not signed: %s", error.message)
        return None
    return checkpoint.pk if checkpoint else None
