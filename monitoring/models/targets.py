"""What is monitored: a model version in an environment, the model's monitoring
configuration, and the reference profiles windows are compared with."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from approvals.models import Environment
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
    # monitoring.llm.config.LlmConfig.to_dict(): cost, quality and safety limits
    # of LLM call monitoring, validated before it is stored.
    llm = models.JSONField(default=dict, blank=True)
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
