import logging

from celery import shared_task

from audit.selectors import audit_chain_verify
from audit.services import chain_verification_record

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
