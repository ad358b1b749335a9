"""References: the stored profiles a window is compared with, rebuilt (and
cached by id), and the profiles of a reference sample, where bins are fixed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from gatehouse_client.profile import (
    DEFAULT_MAX_CATEGORIES,
    CategoricalProfile,
    NumericBins,
    NumericProfile,
    Profile,
    profile_from_dict,
    top_categories,
)
from gatehouse_client.profile.slices import DEFAULT_SCORE_BINS, value_counts

from monitoring.parsing import CATEGORICAL, FEATURE_PREFIX, NUMERIC


@dataclass
class ReferenceState:
    """A stored reference, rebuilt into profiles (and cached by id)."""

    id: int | None
    features: dict[str, Profile]
    score: NumericProfile | None

    @property
    def score_bins(self) -> NumericBins:
        return self.score.bins if self.score is not None else DEFAULT_SCORE_BINS

    def kind_of(self, feature: str) -> str | None:
        profile = self.features.get(feature)
        if profile is None:
            return None
        return NUMERIC if isinstance(profile, NumericProfile) else CATEGORICAL


_REFERENCE_CACHE: dict[int, ReferenceState] = {}
_REFERENCE_CACHE_SIZE = 256


def reference_state(
    reference_id: int | None, features: dict | None, score: dict | None
) -> ReferenceState:
    if reference_id is not None and reference_id in _REFERENCE_CACHE:
        return _REFERENCE_CACHE[reference_id]
    state = ReferenceState(
        id=reference_id,
        features={
            name: profile_from_dict(data) for name, data in (features or {}).items()
        },
        score=NumericProfile.from_dict(score) if score else None,
    )
    if reference_id is not None:
        if len(_REFERENCE_CACHE) >= _REFERENCE_CACHE_SIZE:
            _REFERENCE_CACHE.pop(next(iter(_REFERENCE_CACHE)))
        _REFERENCE_CACHE[reference_id] = state
    return state


def build_reference(
    table: pa.Table, features: list[tuple[str, str]]
) -> tuple[dict[str, dict], dict | None]:
    """Profiles of a reference sample: bins and vocabularies are fixed here."""
    profiles = {}
    for name, kind in features:
        column = table.column(FEATURE_PREFIX + name).combine_chunks()
        if kind == NUMERIC:
            values = column.to_numpy(zero_copy_only=False)
            if np.isnan(values).all():
                # No value to fit bins on (a bootstrap batch with the feature
                # all missing): fall back to a unit range.
                bins = NumericBins(edges=np.array([0.0, 1.0]), tail_scale=1.0)
                profile = NumericProfile.from_values(values, bins)
            else:
                profile = NumericProfile.from_reference(values)
        else:
            counted, missing = value_counts(column)
            profile = CategoricalProfile.from_counts(
                counted,
                top_categories(counted, DEFAULT_MAX_CATEGORIES),
                missing=missing,
            )
        profiles[name] = profile.to_dict()
    score = None
    if "score" in table.column_names:
        values = table.column("score").to_numpy(zero_copy_only=False)
        if (~np.isnan(values)).sum() >= 2:
            score = NumericProfile.from_reference(values).to_dict()
    return profiles, score
