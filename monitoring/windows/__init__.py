"""A batch's contribution to its hourly windows, computed without the database.

``monitoring.services.aggregation`` calls these outside any transaction (the
profiling is the expensive part, and runs in parallel on every worker), then
merges the results into the window rows under their locks. Everything here is
a pure function of the batch table and the window's reference.

Windows are hours in UTC. Numeric features are profiled on the bins of the
window's reference, categorical features on its vocabulary (values it did not
have count in its tail sketch); latency on fixed logarithmic bins (0.01 ms to
10 minutes, 400 bins: a percentile read off them is within 2.1 % of the
recorded value); scores on the reference's score bins, or 100 equal bins on
[0, 1] when the reference had no score.

The profiling itself is the client library's (``gatehouse_client.profile``:
``rows``, a table's contribution hour by hour; ``slices``, profiles of a slice
and quantiles; ``segments``, fairness groups and KPIs), so rows pushed to the
portal and profiles built by a client are made by the same code; this package
re-exports it with ``references`` (a window's reference, and a reference
sample's profiles) and ``prediction_partials`` on a reference.
"""

from gatehouse_client.profile.rows import (
    HOUR_MICROS,
    HOUR_SECONDS,
    Partial,
    PredictionSettings,
    finite_or_none,
    hour_of,
    hour_slices,
    hour_start,
    metric_partials,
    prediction_partials,
    sort_by_hour,
    text_values,
)
from gatehouse_client.profile.segments import (
    MISSING_GROUP,
    merge_kpis,
    merge_segments,
    segment_arrays,
    segment_counts,
    segment_json,
)
from gatehouse_client.profile.slices import (
    LATENCY_BINS,
    empty_like,
    feature_profile,
    quantile,
    share_above,
)

from monitoring.windows.references import (
    DEFAULT_SCORE_BINS,
    ReferenceState,
    build_reference,
    reference_state,
)

__all__ = [
    "DEFAULT_SCORE_BINS",
    "HOUR_MICROS",
    "HOUR_SECONDS",
    "LATENCY_BINS",
    "MISSING_GROUP",
    "Partial",
    "PredictionSettings",
    "ReferenceState",
    "build_reference",
    "empty_like",
    "feature_profile",
    "finite_or_none",
    "hour_of",
    "hour_slices",
    "hour_start",
    "merge_kpis",
    "merge_segments",
    "metric_partials",
    "prediction_partials",
    "quantile",
    "reference_state",
    "segment_arrays",
    "segment_counts",
    "segment_json",
    "share_above",
    "sort_by_hour",
    "text_values",
]
