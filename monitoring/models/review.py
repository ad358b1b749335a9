"""The human review queue: low-confidence predictions sampled for labelling."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from monitoring.models.batches import MonitoringBatch
from monitoring.models.targets import MonitoringTarget
from monitoring.models.windows import MonitoringWindow


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a reviewer"
    LABELLED = "labelled", "Labelled"


class ReviewReason(models.TextChoices):
    LOW_CONFIDENCE = "low_confidence", "Low confidence"
    SAFETY_FLAG = "safety_flag", "Safety flag"
    THUMBS_DOWN = "thumbs_down", "Thumbs down from the user"


class ReviewItem(models.Model):
    """A low-confidence prediction sampled for a person to label, or an LLM
    call flagged by a safety filter or a user's thumbs down."""

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
    reason = models.CharField(
        max_length=20, choices=ReviewReason.choices, default=ReviewReason.LOW_CONFIDENCE
    )
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
