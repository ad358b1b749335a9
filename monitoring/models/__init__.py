"""What monitoring keeps: batches as received, hourly window profiles, check
results, alerts, the label-join index and the human review queue.

Tables and invariants only; every write goes through ``monitoring.services``.
The monitored target is a model version in an environment (what a deployment
runs): a rollback that restores a version continues its windows.

One module per sub-domain; every model is importable from ``monitoring.models``.
"""

from monitoring.models.alerts import (
    Alert,
    AlertSeverity,
    AlertStatus,
    Check,
    CheckResult,
    CheckSeverity,
)
from monitoring.models.batches import (
    BatchFormat,
    BatchKind,
    BatchStatus,
    MonitoringBatch,
)
from monitoring.models.review import ReviewItem, ReviewReason, ReviewStatus
from monitoring.models.targets import (
    MonitoringConfig,
    MonitoringTarget,
    ReferenceProfile,
    ReferenceSource,
    Task,
)
from monitoring.models.windows import (
    FeatureProfile,
    MonitoringDay,
    MonitoringWindow,
    PredictionRecord,
)

__all__ = [
    "Alert",
    "AlertSeverity",
    "AlertStatus",
    "BatchFormat",
    "BatchKind",
    "BatchStatus",
    "Check",
    "CheckResult",
    "CheckSeverity",
    "FeatureProfile",
    "MonitoringBatch",
    "MonitoringConfig",
    "MonitoringDay",
    "MonitoringTarget",
    "MonitoringWindow",
    "PredictionRecord",
    "ReferenceProfile",
    "ReferenceSource",
    "ReviewItem",
    "ReviewReason",
    "ReviewStatus",
    "Task",
]
