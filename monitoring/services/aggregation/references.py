"""The reference a window is compared with, and the profiles stored in rows.

A version without a reference gets its first prediction batch as one
(``reference_for``), under a lock on the target so two workers bootstrap once.
"""

from __future__ import annotations

import pyarrow as pa
from django.db import transaction
from gatehouse_client.profile import CategoricalProfile, NumericProfile, Profile

from audit.services import audit_record
from monitoring import parsing
from monitoring.models import MonitoringTarget, ReferenceProfile, ReferenceSource
from monitoring.windows import (
    LATENCY_BINS,
    ReferenceState,
    build_reference,
    reference_state,
)


def active_reference(version_id: int) -> ReferenceProfile | None:
    return (
        ReferenceProfile.objects.filter(version_id=version_id)
        .order_by("-created_at", "-pk")
        .first()
    )


def reference_for(target: MonitoringTarget, table: pa.Table) -> ReferenceProfile:
    """The version's active reference; without one, the first batch becomes it."""
    reference = active_reference(target.version_id)
    if reference is not None:
        return reference
    with transaction.atomic():
        MonitoringTarget.objects.select_for_update().get(pk=target.pk)
        reference = active_reference(target.version_id)
        if reference is not None:
            return reference
        schema = parsing.Schema.for_kind(
            parsing.PREDICTIONS, target.version.artifact.feature_spec, ()
        )
        features, score = build_reference(table, list(schema.features))
        reference = ReferenceProfile.objects.create(
            version_id=target.version_id,
            source=ReferenceSource.BOOTSTRAP,
            row_count=table.num_rows,
            features=features,
            score=score,
        )
        audit_record(
            actor=None,
            action="monitoring.reference_bootstrapped",
            target=target.version,
            scope=target.model.name,
            payload={
                "reference": reference.pk,
                "environment": target.environment.name,
                "rows": table.num_rows,
            },
        )
    return reference


def reference_state_of(reference: ReferenceProfile | None) -> ReferenceState:
    if reference is None:
        return ReferenceState(id=None, features={}, score=None)
    return reference_state(reference.pk, reference.features, reference.score)


# --- Profiles stored in rows -------------------------------------------------------


def load_profile(data: dict, reference: Profile) -> Profile:
    if isinstance(reference, NumericProfile):
        return NumericProfile.from_dict(data, bins=reference.bins)
    return CategoricalProfile.from_dict(data)


def dump_profile(profile: Profile) -> dict:
    if isinstance(profile, NumericProfile):
        return profile.to_dict(include_bins=False)
    return profile.to_dict()


def load_latency(data: dict | None) -> NumericProfile | None:
    return NumericProfile.from_dict(data, bins=LATENCY_BINS) if data else None


def load_score(data: dict | None) -> NumericProfile | None:
    return NumericProfile.from_dict(data) if data else None
