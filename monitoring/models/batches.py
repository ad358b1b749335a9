"""Batches as received, before and after they are applied to their windows."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from approvals.models import Environment
from models_registry.models import RegisteredModel
from monitoring.models.targets import MonitoringTarget


class BatchKind(models.TextChoices):
    PREDICTIONS = "predictions", "Prediction logs"
    LABELS = "labels", "Delayed labels"
    METRICS = "metrics", "Business metrics"
    # Window profiles built by the client (gatehouse_client.profile): no rows.
    PROFILES = "profiles", "Window profiles"
    LLM_CALLS = "llm_calls", "LLM calls"


class BatchFormat(models.TextChoices):
    JSON_ROWS = "json_rows", "JSON, one object per row"
    JSON_COLUMNS = "json_columns", "JSON, one array per column"
    PARQUET = "parquet", "Apache Parquet"
    PROFILE_JSON = "profile_json", "Profile document, JSON"
    PROFILE_BINARY = "profile_bin", "Profile document, binary"


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
