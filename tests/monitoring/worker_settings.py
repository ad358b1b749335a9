"""Settings of a Celery worker started by ``test_worker``: the portal's, plus a
pause in batch aggregation where the test kills the worker.

With ``MONITORING_APPLY_PAUSE_SECONDS`` set in its environment, each pool
process wraps ``batch_mark_applied`` (the last write of every merge, inside its
transaction) where the predictions, labels and metrics merges call it: on a
batch's first attempt it marks its connection with ``PAUSE_MARKER`` (the test
waits for that query in ``pg_stat_activity``) and sleeps, holding the
transaction open with every window and index row written but the batch not yet
marked applied.
"""

import functools
import os
import time

from celery.signals import worker_process_init

from portal.settings import *  # noqa: F403

PAUSE_MARKER = "monitoring-apply-paused"


def pause_before_marking_applied(mark_applied, seconds: float):
    @functools.wraps(mark_applied)
    def paused(batch, result, now):
        if batch.attempts == 1:
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(f"SELECT '{PAUSE_MARKER}'")
            time.sleep(seconds)
        return mark_applied(batch, result, now)

    return paused


@worker_process_init.connect
def install_pause(**kwargs) -> None:
    seconds = float(os.environ.get("MONITORING_APPLY_PAUSE_SECONDS") or 0)
    if seconds <= 0:
        return
    from monitoring.services.aggregation import labels, metrics, predictions

    for module in (predictions, labels, metrics):
        module.batch_mark_applied = pause_before_marking_applied(
            module.batch_mark_applied, seconds
        )
