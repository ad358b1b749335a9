"""Monitoring in the Django admin: read-only. Batches, windows, alerts, review
items and configurations change only through the services (the API and the
monitoring pages), which check permissions and write the audit events."""

from django.contrib import admin

from kernel.admin import ReadOnlyAdmin
from monitoring.models import (
    Alert,
    MonitoringBatch,
    MonitoringConfig,
    MonitoringTarget,
    MonitoringWindow,
    ReferenceProfile,
    ReviewItem,
)


@admin.register(MonitoringTarget)
class MonitoringTargetAdmin(ReadOnlyAdmin):
    list_display = ("model", "version", "environment", "created_at")
    list_select_related = ("model", "version", "environment")
    list_filter = ("environment",)


@admin.register(MonitoringConfig)
class MonitoringConfigAdmin(ReadOnlyAdmin):
    list_display = ("model", "task", "decision_threshold", "updated_at", "updated_by")
    list_select_related = ("model", "updated_by")


@admin.register(ReferenceProfile)
class ReferenceProfileAdmin(ReadOnlyAdmin):
    list_display = ("pk", "version", "source", "row_count", "created_at", "created_by")
    list_select_related = ("version__model", "created_by")
    list_filter = ("source",)
    exclude = ("features", "score")


@admin.register(MonitoringBatch)
class MonitoringBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "batch_id",
        "kind",
        "model",
        "environment",
        "row_count",
        "status",
        "attempts",
        "received_at",
        "applied_at",
    )
    list_select_related = ("model", "environment")
    list_filter = ("status", "kind", "format")
    search_fields = ("batch_id",)
    exclude = ("payload",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("payload")


@admin.register(MonitoringWindow)
class MonitoringWindowAdmin(ReadOnlyAdmin):
    list_display = (
        "target",
        "start",
        "prediction_count",
        "label_count",
        "latency_p99",
        "needs_check",
        "checked_at",
    )
    list_select_related = ("target__model", "target__version", "target__environment")
    list_filter = ("needs_check",)
    exclude = ("score_profile", "latency_profile", "outcomes", "segments")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("pk", "title", "severity", "status", "occurrences", "opened_at")
    list_select_related = ("target__model",)
    list_filter = ("status", "severity", "kind")


@admin.register(ReviewItem)
class ReviewItemAdmin(ReadOnlyAdmin):
    list_display = ("prediction_id", "target", "confidence", "status", "labelled_by")
    list_select_related = (
        "target__model",
        "target__version",
        "target__environment",
        "labelled_by",
    )
    list_filter = ("status",)
