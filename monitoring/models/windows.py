"""Hourly windows of a target, their day roll-ups, their feature profiles and
the label-join index of the predictions they hold."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from monitoring.models.targets import MonitoringTarget, ReferenceProfile

FED_BY_LABELS = {
    "rows": "rows",
    "profiles": "window profiles",
    "both": "rows and window profiles",
}


def fed_by(prediction_count: int, profile_rows: int) -> str | None:
    """How a window was fed: "rows", "profiles" (built by a client), "both", or
    None while it holds no prediction."""
    if not prediction_count:
        return None
    if not profile_rows:
        return "rows"
    return "profiles" if profile_rows >= prediction_count else "both"


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
    # Of prediction_count, the predictions that arrived as window profiles
    # (0: fed by rows only; prediction_count: by profiles only; else both).
    profile_rows = models.BigIntegerField(default=0)
    label_count = models.BigIntegerField(default=0)
    latency_count = models.BigIntegerField(default=0)
    score_profile = models.JSONField(null=True, blank=True)
    latency_profile = models.JSONField(null=True, blank=True)
    # Label-joined outcome counts (see gatehouse_client.profile.outcomes).
    outcomes = models.JSONField(default=dict, blank=True)
    # {attribute: {group: {count, positive, labelled, correct, ...}}}
    segments = models.JSONField(default=dict, blank=True)
    # {kpi: {count, sum, min, max}}
    kpis = models.JSONField(default=dict, blank=True)
    review_queued = models.PositiveIntegerField(default=0)
    # LLM call counts and sums (see monitoring.llm.windows): tokens, cost,
    # refusals, safety flags, feedback, judge scores.
    llm = models.JSONField(default=dict, blank=True)
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

    @property
    def fed_by(self) -> str | None:
        return fed_by(self.prediction_count, self.profile_rows)


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
