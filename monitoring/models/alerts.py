"""The checks' verdicts per window and subject, and the alerts they raise."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from approvals.models import DeploymentRequest
from monitoring.models.targets import MonitoringTarget
from monitoring.models.windows import MonitoringWindow


class Check(models.TextChoices):
    DATA_DRIFT = "data_drift", "Data drift"
    PREDICTION_DRIFT = "prediction_drift", "Prediction drift"
    SKEW = "skew", "Training-serving skew"
    CONCEPT_DRIFT = "concept_drift", "Concept drift"
    LATENCY = "latency", "Latency SLO"
    KPI = "kpi", "Business KPI"
    FAIRNESS = "fairness", "Online fairness"
    LLM_COST = "llm_cost", "LLM cost spike"
    LLM_QUALITY = "llm_quality", "LLM quality (judge scores)"
    LLM_SAFETY = "llm_safety", "LLM safety flags"


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
