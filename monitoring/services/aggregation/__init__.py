"""Applying stored batches to their windows, exactly once.

The profiling (the expensive part) runs before any lock is taken; the merge runs
in one transaction that also marks the batch applied, so a batch is counted
once whatever happens: a redelivered message finds it applied, a worker killed
half way rolls back and the batch is applied again by the next attempt.

Lock order: the batch row (``FOR UPDATE SKIP LOCKED``: a batch another worker
is applying is skipped), prediction records (labels, by pk), windows (``FOR NO
KEY UPDATE``, by start then pk), then the audit chain. Windows are created
before they are locked (``INSERT ... ON CONFLICT DO NOTHING``, in start order).

Modules: ``apply`` (one batch, by kind), ``predictions``, ``labels`` and
``metrics`` (the merge of each kind), ``state`` (the batch row's life and the
sweeper), ``window_rows``, ``records`` (the label-join index) and
``references`` (the reference of a version, profiles stored in rows).
"""

from monitoring.services.aggregation.apply import batch_apply
from monitoring.services.aggregation.labels import label_outcomes_merge
from monitoring.services.aggregation.references import (
    active_reference,
    dump_profile,
    load_latency,
    load_profile,
    load_score,
    reference_state_of,
)
from monitoring.services.aggregation.state import (
    batch_error_record,
    batch_fail,
    batches_due,
)
from monitoring.services.aggregation.window_rows import WINDOW_FIELDS

__all__ = [
    "WINDOW_FIELDS",
    "active_reference",
    "batch_apply",
    "batch_error_record",
    "batch_fail",
    "batches_due",
    "dump_profile",
    "label_outcomes_merge",
    "load_latency",
    "load_profile",
    "load_score",
    "reference_state_of",
]
