"""What monitoring keeps: batches as received, hourly window profiles, check
results, alerts, the label-join index and the human review queue.

Tables and invariants only; every write goes through ``monitoring.services``.
The monitored target is a model version in an environment (what a deployment
runs): a rollback that restores a version continues its windows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from approvals.models import DeploymentRequest, Environment
from models_registry.models import ModelVersion, RegisteredModel


class MonitoringTarget(models.Model):
    """A model version in an environment: what windows, checks and alerts hang on."""

    model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="monitoring_targets"
    )
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="monitoring_targets"
    )
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="monitoring_targets"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["model", "environment", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "environment"], name="monitoring_target_once"
            )
        ]

    def __str__(self):
        return f"{self.model.name} v{self.version.version} in {self.environment.name}"


class Task(models.TextChoices):
    BINARY = "binary_classification", "Binary classification"
    MULTICLASS = "multiclass", "Multiclass classification"
    REGRESSION = "regression", "Regression"


class MonitoringConfig(models.Model):
    """How one model's windows are judged; absent means the documented defaults."""

    model = models.OneToOneField(
        RegisteredModel, on_delete=models.CASCADE, related_name="monitoring_config"
    )
    task = models.CharField(max_length=24, choices=Task.choices, default=Task.BINARY)
    # Binary classification: a score at or above it predicts the positive class.
    decision_threshold = models.FloatField(default=0.5)
    # monitoring.drift.DriftConfig.to_dict(), validated before it is stored.
    drift = models.JSONField(default=dict, blank=True)
    # A drop of the online metric below the test evaluation by more than this
    # (absolute) is a warning; below the offline success threshold is critical.
    performance_tolerance = models.FloatField(default=0.02)
    # Checks whose alerts, on a high or critical risk model, open a retrain
    # request when a person acknowledges them. Empty: settings default.
    retrain_checks = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(decision_threshold__gte=0, decision_threshold__lte=1),
                name="monitoring_config_threshold_range",
            ),
            models.CheckConstraint(
                condition=Q(performance_tolerance__gte=0),
                name="monitoring_config_tolerance_positive",
            ),
        ]

    def __str__(self):
        return f"monitoring of {self.model_id}"


class ReferenceSource(models.TextChoices):
    UPLOAD = "upload", "Uploaded reference sample"
    BOOTSTRAP = "bootstrap", "First serving batch (no reference was uploaded)"


class ReferenceProfile(models.Model):
    """Profiles of a version's reference sample; the newest one is active.

    Numeric bins and categorical vocabularies are fixed here: every window opened
    while this reference is active is profiled on them, so the two compare.
    """

    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="reference_profiles"
    )
    source = models.CharField(max_length=10, choices=ReferenceSource.choices)
    row_count = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True)
    # {feature: profile.to_dict()} in feature-spec order, bins included.
    features = models.JSONField()
    # The score distribution of the sample, if it had a score column.
    score = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version", "-created_at", "-pk"]
        indexes = [models.Index(fields=["version", "-created_at"])]

    def __str__(self):
        return f"reference #{self.pk} of version {self.version_id} ({self.source})"


class BatchKind(models.TextChoices):
    PREDICTIONS = "predictions", "Prediction logs"
    LABELS = "labels", "Delayed labels"
    METRICS = "metrics", "Business metrics"


class BatchFormat(models.TextChoices):
    JSON_ROWS = "json_rows", "JSON, one object per row"
    JSON_COLUMNS = "json_columns", "JSON, one array per column"
    PARQUET = "parquet", "Apache Parquet"


class BatchStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"


class MonitoringBatch(models.Model):
    """One batch as received, stored before the API answers.

    ``payload`` is the validated batch as a zstd-compressed Arrow IPC stream
    (normalised columns, see ``monitoring.ingestion``). The unique constraint on
    the client's batch id makes a resend a no-op; ``status`` moves from pending
    to applied in the transaction that merges the batch into its windows.
    """

    target = models.ForeignKey(
        MonitoringTarget, on_delete=models.PROTECT, related_name="batches"
    )
    # Denormalised from the target: a batch id is unique per model, environment
    # and kind whatever version the batch names.
    model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="+"
    )
    environment = models.ForeignKey(
        Environment, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=BatchKind.choices)
    batch_id = models.CharField(max_length=200)
    format = models.CharField(max_length=12, choices=BatchFormat.choices)
    body_sha256 = models.CharField(max_length=64)
    body_bytes = models.BigIntegerField()
    row_count = models.PositiveIntegerField()
    payload = models.BinaryField()
    status = models.CharField(
        max_length=10, choices=BatchStatus.choices, default=BatchStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # What applying it did: windows touched, labels matched, items queued...
    result = models.JSONField(default=dict, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    # When retention cleared the payload (MONITORING_PAYLOAD_RETENTION_DAYS);
    # body_sha256, body_bytes and row_count still tell what was received.
    payload_pruned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        permissions = [
            ("push_data", "Can push monitoring data for the models of their team")
        ]
        indexes = [
            models.Index(
                fields=["enqueued_at"],
                condition=Q(status="pending"),
                name="monitoring_batch_pending",
            ),
            models.Index(fields=["target", "-received_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "environment", "kind", "batch_id"],
                name="monitoring_batch_once",
            ),
            models.CheckConstraint(
                condition=Q(status="applied", applied_at__isnull=False)
                | (~Q(status="applied") & Q(applied_at__isnull=True)),
                name="monitoring_batch_applied_at",
            ),
        ]

    def __str__(self):
        return f"{self.kind} batch {self.batch_id} ({self.status})"


class MonitoringWindow(models.Model):
    """One hour of one target: mergeable profiles plus the numbers dashboards read.

    Every batch merges into its windows under this row's lock; ``revision``
    counts the merges, and checks remember the revision they judged, so a late
    batch (or a delayed label) makes a closed window due for checking again.
    """

    target = models.ForeignKey(
        MonitoringTarget, on_delete=models.CASCADE, related_name="windows"
    )
    start = models.DateTimeField()
    reference = models.ForeignKey(
        ReferenceProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revision = models.PositiveIntegerField(default=0)
    needs_check = models.BooleanField(default=False)
    prediction_count = models.BigIntegerField(default=0)
    label_count = models.BigIntegerField(default=0)
    latency_count = models.BigIntegerField(default=0)
    score_profile = models.JSONField(null=True, blank=True)
    latency_profile = models.JSONField(null=True, blank=True)
    # Label-joined outcome counts (see monitoring.outcomes).
    outcomes = models.JSONField(default=dict, blank=True)
    # {attribute: {group: {count, positive, labelled, correct, ...}}}
    segments = models.JSONField(default=dict, blank=True)
    # {kpi: {count, sum, min, max}}
    kpis = models.JSONField(default=dict, blank=True)
    review_queued = models.PositiveIntegerField(default=0)
    # Small numbers for dashboards, refreshed at every merge and check.
    latency_p50 = models.FloatField(null=True, blank=True)
    latency_p95 = models.FloatField(null=True, blank=True)
    latency_p99 = models.FloatField(null=True, blank=True)
    score_mean = models.FloatField(null=True, blank=True)
    # Written by the checks. drift: {feature: score of its decisive statistic};
    # summary: {"drift_severity", "prediction_drift", "performance", "latency",
    # "kpis", "fairness", "failing"}. Both stay small (no TOAST), so dashboards
    # read thousands of them fast.
    drift = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    checked_revision = models.PositiveIntegerField(default=0)
    checked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["target", "start"]
        indexes = [
            models.Index(
                fields=["start"],
                condition=Q(needs_check=True),
                name="monitoring_window_due",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "start"], name="monitoring_window_once"
            )
        ]

    def __str__(self):
        return f"window {self.start:%Y-%m-%d %H:00} of target {self.target_id}"


class MonitoringDay(models.Model):
    """A day of one target, rolled up from its checked windows for dashboards
    of long periods: the worst drift score of each feature that day, and the
    day's counts, worst latency percentiles, mean performance and KPIs and
    largest fairness gaps (``summary``, keyed like the window columns)."""

    target = models.ForeignKey(
        MonitoringTarget, on_delete=models.CASCADE, related_name="days"
    )
    day = models.DateField()
    drift = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["target", "day"]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "day"], name="monitoring_day_once"
            )
        ]

    def __str__(self):
        return f"{self.day} of target {self.target_id}"


class FeatureProfile(models.Model):
    """One feature's mergeable profile in one window."""

    window = models.ForeignKey(
        MonitoringWindow, on_delete=models.CASCADE, related_name="feature_profiles"
    )
    feature = models.CharField(max_length=200)
    kind = models.CharField(max_length=12)
    profile = models.JSONField()
    count = models.BigIntegerField(default=0)
    missing = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["window", "feature"]
        constraints = [
            models.UniqueConstraint(
                fields=["window", "feature"], name="feature_profile_once"
            )
        ]

    def __str__(self):
        return f"{self.feature} in window {self.window_id}"


class Check(models.TextChoices):
    DATA_DRIFT = "data_drift", "Data drift"
    PREDICTION_DRIFT = "prediction_drift", "Prediction drift"
    SKEW = "skew", "Training-serving skew"
    CONCEPT_DRIFT = "concept_drift", "Concept drift"
    LATENCY = "latency", "Latency SLO"
    KPI = "kpi", "Business KPI"
    FAIRNESS = "fairness", "Online fairness"


class CheckSeverity(models.TextChoices):
    NONE = "none", "None"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class CheckResult(models.Model):
    """The verdict of one check on one window, per feature (or KPI, metric,
    attribute); ``subject`` is empty for window-wide checks."""

    window = models.ForeignKey(
        MonitoringWindow, on_delete=models.CASCADE, related_name="check_results"
    )
    kind = models.CharField(max_length=20, choices=Check.choices)
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20)
    severity = models.CharField(
        max_length=10, choices=CheckSeverity.choices, default=CheckSeverity.NONE
    )
    score = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["window", "kind", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["window", "kind", "subject"], name="check_result_once"
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.subject}: {self.severity}"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class AlertSeverity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class Alert(models.Model):
    """A check that failed, once per target, check and subject until resolved."""

    target = models.ForeignKey(
        MonitoringTarget, on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=Check.choices)
    subject = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=12, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices)
    title = models.CharField(max_length=300)
    # The latest failing result: score, threshold, statistics.
    details = models.JSONField(default=dict, blank=True)
    occurrences = models.PositiveIntegerField(default=1)
    first_window_start = models.DateTimeField()
    last_window_start = models.DateTimeField()
    # Set when a later window passed the check (the alert stays until resolved).
    cleared_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(blank=True)
    retrain_request = models.ForeignKey(
        DeploymentRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [models.Index(fields=["target", "status", "-opened_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "kind", "subject"],
                condition=~Q(status="resolved"),
                name="one_unresolved_alert_per_check",
            ),
            models.CheckConstraint(
                condition=Q(status="open")
                | Q(status="acknowledged", acknowledged_at__isnull=False)
                | Q(status="resolved", resolved_at__isnull=False),
                name="alert_status_dates",
            ),
        ]

    def __str__(self):
        return f"alert #{self.pk}: {self.title}"


class PredictionRecord(models.Model):
    """The label-join index: enough of each prediction to score it when its
    label arrives (possibly days later, in another batch)."""

    # No database-level foreign keys: a batch writes up to MONITORING_MAX_ROWS
    # rows here by COPY, and per-row constraint triggers would double its cost.
    # Only the aggregation writes these rows, with the ids of rows it holds in
    # the same transaction; Django still cascades deletes.
    target = models.ForeignKey(
        MonitoringTarget,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    window = models.ForeignKey(
        MonitoringWindow,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    prediction_id = models.CharField(max_length=200)
    score = models.FloatField(null=True, blank=True)
    prediction = models.CharField(max_length=200, blank=True)
    # {"sex": "female"}: the segment attributes sent with the prediction.
    segments = models.JSONField(default=dict, blank=True)
    # Null until labelled: an empty label is not the same as none yet.
    label = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    labelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["target", "prediction_id"])]

    def __str__(self):
        return f"prediction {self.prediction_id}"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a reviewer"
    LABELLED = "labelled", "Labelled"


class ReviewItem(models.Model):
    """A low-confidence prediction sampled for a person to label."""

    target = models.ForeignKey(
        MonitoringTarget, on_delete=models.CASCADE, related_name="review_items"
    )
    window = models.ForeignKey(
        MonitoringWindow, on_delete=models.CASCADE, related_name="review_items"
    )
    batch = models.ForeignKey(
        MonitoringBatch, on_delete=models.CASCADE, related_name="review_items"
    )
    prediction_id = models.CharField(max_length=200)
    predicted_at = models.DateTimeField()
    score = models.FloatField(null=True, blank=True)
    confidence = models.FloatField()
    prediction = models.CharField(max_length=200, blank=True)
    features = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    label = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)
    labelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    labelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["confidence", "predicted_at", "pk"]
        indexes = [models.Index(fields=["status", "confidence"])]
        constraints = [
            models.UniqueConstraint(
                fields=["target", "prediction_id"], name="review_item_once"
            ),
            models.CheckConstraint(
                condition=Q(status="pending")
                | Q(status="labelled", labelled_at__isnull=False),
                name="review_item_labelled_at",
            ),
        ]

    def __str__(self):
        return f"review of prediction {self.prediction_id}"
