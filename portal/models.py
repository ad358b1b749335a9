"""The shell's one table: lineage reports prepared in the background."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from kernel.storage import report_storage


class ReportExport(models.Model):
    """A lineage report prepared in the background (large reports), with its
    progress for the browser and the finished file. See portal/reports/."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being prepared"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        JSON = "json", "JSON"
        CSV = "csv", "CSV tables (zip)"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    model = models.ForeignKey(
        "models_registry.RegisteredModel", on_delete=models.PROTECT, related_name="+"
    )
    # None: the whole model's report; otherwise the version number.
    version_number = models.PositiveIntegerField(null=True, blank=True)
    format = models.CharField(max_length=8, choices=Format.choices)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    file = models.FileField(
        storage=report_storage, upload_to="exports/%Y/%m/", blank=True
    )
    filename = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    # The report.exported audit event recorded when the file was finished.
    audit_sequence = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The table and its migrations keep the label they were made under,
        # which the kernel app carries now (kernel/migrations/0003).
        app_label = "portal"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["requested_by", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="report_export_progress"
            ),
        ]

    def __str__(self):
        return f"report export #{self.pk} ({self.format}, {self.status})"
