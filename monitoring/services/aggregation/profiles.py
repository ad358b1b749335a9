"""Merging a batch of window profiles (built by a client) into its windows:
the same merge as a prediction batch's, without rows, so no label-join index
and no review queue. Each window also counts the predictions that arrived as
profiles (``profile_rows``), which tells how it was fed.

A window opened under another reference than the one the profiles were made
on cannot take them (their bins differ): it is left unchanged and named in the
batch's result (``skipped``); the other windows of the batch are merged.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.db import transaction
from gatehouse_client.profile import ProfileSpec, decode_binary, read_windows

from monitoring.models import (
    MonitoringBatch,
    MonitoringTarget,
    MonitoringWindow,
    ReferenceProfile,
)
from monitoring.services.aggregation.predictions import features_merge, window_merge
from monitoring.services.aggregation.references import reference_state_of
from monitoring.services.aggregation.state import batch_lock_pending, batch_mark_applied
from monitoring.services.aggregation.window_rows import (
    WINDOW_FIELDS,
    windows_ensure,
    windows_lock,
)
from monitoring.services.targets import config_for
from monitoring.windows import hour_of


def spec_of(
    target: MonitoringTarget, reference: ReferenceProfile | None
) -> ProfileSpec:
    """The spec a target's profiles are made on, under ``reference``."""
    state = reference_state_of(reference)
    model = target.model
    config = config_for(model)
    return ProfileSpec(
        features=state.features,
        score_bins=state.score_bins,
        task=config.task,
        decision_threshold=config.decision_threshold,
        segments=tuple(model.fairness_attributes or ()),
        model=model.name,
        environment=target.environment.name,
        version=target.version.version,
        reference=reference.pk if reference is not None else None,
    )


def stored_document(payload: bytes) -> dict:
    """The checked document a profile batch stored (see ``profiles_receive``)."""
    return json.loads(decode_binary(payload, max_bytes=2**31))


def apply_profiles(batch: MonitoringBatch, payload: bytes, now: datetime) -> bool:
    """Merge a profile batch; False when another worker has it or it is done."""
    target = batch.target
    document = stored_document(payload)
    reference = ReferenceProfile.objects.get(pk=document["reference"])
    spec = spec_of(target, reference)
    profiles = {window.hour: window for window in read_windows(document, spec)}
    state = reference_state_of(reference)
    with transaction.atomic():
        if batch_lock_pending(batch.pk) is None:
            return False
        window_ids = windows_ensure(target, list(profiles), reference)
        windows = {hour_of(w.start): w for w in windows_lock(window_ids.values())}
        skipped = []
        for hour, window in list(windows.items()):
            if window.reference_id is None:
                window.reference = reference
            elif window.reference_id != reference.pk:
                skipped.append(window.start.isoformat())
                del windows[hour]
        features_merge(windows, profiles, {reference.pk: state})
        for hour, window in windows.items():
            window_merge(window, profiles[hour], now)
            window.profile_rows += profiles[hour].rows
        MonitoringWindow.objects.bulk_update(
            list(windows.values()), [*WINDOW_FIELDS, "profile_rows"]
        )
        batch_mark_applied(
            batch,
            {
                "rows": sum(profiles[hour].rows for hour in windows),
                "windows": [w.start.isoformat() for w in windows.values()],
                "labelled": sum(profiles[hour].labelled for hour in windows),
                "skipped": skipped,
                "reference": reference.pk,
            },
            now,
        )
    return True
