"""Celery tasks of monitoring: thin, idempotent wrappers around the services.

``apply_batch`` may run twice for one batch (a redelivered message, the sweeper
re-enqueueing a batch whose message was lost): the service applies a batch once
and answers None the second time. A failing attempt is retried with backoff;
after ``MONITORING_APPLY_MAX_ATTEMPTS`` starts the batch is marked failed and
kept, with its error, for a person to look at.
"""

import logging

from celery import shared_task

from monitoring.services.aggregation import (
    batch_apply,
    batch_error_record,
    batches_due,
)
from monitoring.services.checks import window_check, windows_due
from monitoring.services.retention import monitoring_prune

logger = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 10


@shared_task(bind=True, name="monitoring.tasks.apply_batch", max_retries=None)
def apply_batch(self, batch_id: int) -> str | None:
    """Merge one stored batch into its windows; return its new status."""
    try:
        batch = batch_apply(batch_id=batch_id)
    except Exception as error:
        logger.exception("monitoring batch %s could not be applied", batch_id)
        batch_error_record(batch_id=batch_id, error=f"{type(error).__name__}: {error}")
        countdown = RETRY_BASE_SECONDS * 2 ** min(self.request.retries, 6)
        raise self.retry(exc=error, countdown=countdown) from error
    return batch.status if batch is not None else None


@shared_task(name="monitoring.tasks.sweep_pending_batches")
def sweep_pending_batches() -> int:
    """Enqueue batches left pending (their message lost or their worker dead)."""
    due = batches_due()
    for batch_id in due:
        apply_batch.delay(batch_id)
    if due:
        logger.info("re-enqueued %s pending monitoring batch(es)", len(due))
    return len(due)


@shared_task(name="monitoring.tasks.check_window")
def check_window(window_id: int) -> int | None:
    """Run the checks of one window; return how many results it stored."""
    results = window_check(window_id=window_id)
    return len(results) if results is not None else None


@shared_task(name="monitoring.tasks.check_due_windows")
def check_due_windows() -> int:
    """Enqueue the checks of every closed window changed since its last check."""
    due = windows_due()
    for window_id in due:
        check_window.delay(window_id)
    return len(due)


@shared_task(name="monitoring.tasks.prune_monitoring")
def prune_monitoring() -> dict[str, int]:
    """Clear old batch payloads and delete old label-join rows (retention)."""
    pruned = monitoring_prune()
    logger.info("monitoring retention: %s", pruned)
    return {
        "payloads_cleared": pruned.payloads_cleared,
        "label_join_rows_deleted": pruned.label_join_rows_deleted,
    }
