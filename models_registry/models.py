"""What data scientists register: models, datasets, runs, artifacts, versions.

Tables and invariants only; every write goes through ``models_registry.services``.
Artifacts and dataset snapshots are immutable: ``save()`` refuses to update them
and database triggers (migration 0002) refuse UPDATE and DELETE.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from kernel.models import Team, TimeStampedModel


class DecisionDomain(models.TextChoices):
    CREDIT = "credit", "Credit"
    HEALTH = "health", "Health"
    INSURANCE = "insurance", "Insurance"
    FRAUD = "fraud", "Fraud"
    RECOMMENDATION = "recommendation", "Recommendation"
    MARKETING = "marketing", "Marketing"
    OTHER = "other", "Other"


class RiskClass(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class RegulatoryTier(models.TextChoices):
    MINIMAL = "minimal", "EU AI Act: minimal risk"
    LIMITED = "limited", "EU AI Act: limited risk"
    HIGH = "high", "EU AI Act: high risk"


class ServingMode(models.TextChoices):
    BATCH = "batch", "Batch"
    REAL_TIME = "real_time", "Real-time"


class EntryKind(models.TextChoices):
    """What a registered entry holds: a trained model, a prompt template, or an
    LLM application (prompt versions + base model + parameters + index)."""

    MODEL = "model", "Model"
    PROMPT = "prompt", "Prompt"
    LLM_APP = "llm_app", "LLM application"


# Kinds governed by eval-harness evidence and the prompt gates, not training.
LLM_KINDS = (EntryKind.PROMPT, EntryKind.LLM_APP)


class ImmutableModel(models.Model):
    """A row that is written once. Updating it through the ORM raises."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError(f"{type(self).__name__} rows are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError(f"{type(self).__name__} rows are immutable")


class ImmutableRecordError(Exception):
    pass


class RegisteredModel(TimeStampedModel):
    # Immutable after creation: MLflow users asked for exactly this (mlflow#3175).
    name = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(
        max_length=10, choices=EntryKind.choices, default=EntryKind.MODEL
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="models")
    domain = models.CharField(max_length=20, choices=DecisionDomain.choices)
    risk_class = models.CharField(max_length=10, choices=RiskClass.choices)
    regulatory_tier = models.CharField(max_length=10, choices=RegulatoryTier.choices)
    serving_mode = models.CharField(max_length=10, choices=ServingMode.choices)
    # [{"metric": "auc", "direction": "higher", "threshold": 0.75}, ...]
    offline_success_metrics = models.JSONField(default=list, blank=True)
    # [{"kpi": "approval_rate", "direction": "higher", "threshold": 0.6}, ...]
    online_success_metrics = models.JSONField(default=list, blank=True)
    latency_slo_ms = models.PositiveIntegerField(null=True, blank=True)
    latency_slo_percentile = models.PositiveSmallIntegerField(default=99)
    # {"mode": "exact_hash"} or {"mode": "metrics", "tolerances": {"auc": 0.005}}
    reproducibility_tolerance = models.JSONField(default=dict, blank=True)
    low_confidence_threshold = models.FloatField(null=True, blank=True)
    # Protected attributes whose slices evaluations must carry, and the largest
    # allowed gap of a slice metric between groups.
    fairness_attributes = models.JSONField(default=list, blank=True)
    fairness_max_disparity = models.FloatField(default=0.1)
    # Version numbers are handed out under a lock on this row: gapless.
    last_version_number = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        permissions = [
            ("register_version", "Can register versions and records of the model"),
            ("review_registeredmodel", "Can decide deployment requests of the model"),
            ("rollback_registeredmodel", "Can roll back deployments of the model"),
            ("change_risk_class", "Can change the risk class of models"),
        ]
        indexes = [
            models.Index(fields=["team", "risk_class"]),
            models.Index(fields=["kind", "name"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latency_slo_percentile__in=[50, 90, 95, 99]),
                name="registered_model_slo_percentile",
            ),
            models.CheckConstraint(
                condition=models.Q(low_confidence_threshold__isnull=True)
                | models.Q(
                    low_confidence_threshold__gte=0, low_confidence_threshold__lte=1
                ),
                name="registered_model_low_confidence_range",
            ),
        ]

    def __str__(self):
        return self.name


class RegisteredModelUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="user_permissions"
    )


class RegisteredModelGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(
        RegisteredModel, on_delete=models.CASCADE, related_name="group_permissions"
    )


class TeamReviewer(models.Model):
    """A reviewer or risk officer assigned to every model of a team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_reviewer_once")
        ]

    def __str__(self):
        return f"{self.user} reviews {self.team}"


class DatasetSnapshot(ImmutableModel):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="datasets")
    name = models.CharField(max_length=200)
    uri = models.CharField(max_length=1000)
    sha256 = models.CharField(max_length=64)
    row_count = models.BigIntegerField()
    # [{"name": "income", "type": "float"}, ...]
    schema = models.JSONField(default=list)
    time_column = models.CharField(max_length=200, blank=True)
    time_range_start = models.DateTimeField(null=True, blank=True)
    time_range_end = models.DateTimeField(null=True, blank=True)
    # [{"column": "email", "handling": "hashed", "legal_basis": ""}, ...]
    pii_columns = models.JSONField(default=list, blank=True)
    parents = models.ManyToManyField(
        "self", symmetrical=False, related_name="children", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["team", "sha256"], name="snapshot_once"),
            models.CheckConstraint(
                condition=models.Q(row_count__gte=0), name="rows_>=0"
            ),
            models.CheckConstraint(
                condition=models.Q(time_range_start__isnull=True)
                | models.Q(time_range_end__isnull=True)
                | models.Q(time_range_start__lte=models.F("time_range_end")),
                name="snapshot_time_range_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.sha256[:12]})"


class TrainingRun(TimeStampedModel):
    model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="runs"
    )
    external_run_id = models.CharField(max_length=200)
    code_repository = models.CharField(max_length=500)
    code_commit = models.CharField(max_length=64)
    entrypoint = models.CharField(max_length=500, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    environment_lock_hash = models.CharField(max_length=64)
    random_seed = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    inputs = models.ManyToManyField(
        DatasetSnapshot, through="TrainingRunInput", related_name="runs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "external_run_id"], name="run_id_once_per_model"
            ),
        ]

    def __str__(self):
        return f"run {self.external_run_id}"


class InputRole(models.TextChoices):
    TRAIN = "train", "Training"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"
    REFERENCE = "reference", "Reference"


class TrainingRunInput(models.Model):
    run = models.ForeignKey(
        TrainingRun, on_delete=models.CASCADE, related_name="run_inputs"
    )
    snapshot = models.ForeignKey(
        DatasetSnapshot, on_delete=models.PROTECT, related_name="run_inputs"
    )
    role = models.CharField(max_length=12, choices=InputRole.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "snapshot", "role"], name="run_input_once"
            )
        ]

    def __str__(self):
        return f"{self.snapshot} as {self.role}"


class ArtifactFormat(models.TextChoices):
    SKLEARN = "sklearn", "scikit-learn"
    XGBOOST = "xgboost", "XGBoost"
    LIGHTGBM = "lightgbm", "LightGBM"
    ONNX = "onnx", "ONNX"
    TORCH = "torch", "PyTorch"
    TENSORFLOW = "tensorflow", "TensorFlow"
    PMML = "pmml", "PMML"
    MLFLOW = "mlflow", "MLflow model"
    PROMPT = "prompt", "Prompt template"
    LLM_APP = "llm_app", "LLM application"
    OTHER = "other", "Other"


class Artifact(ImmutableModel):
    model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="artifacts"
    )
    uri = models.CharField(max_length=1000)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField()
    format = models.CharField(max_length=12, choices=ArtifactFormat.choices)
    preprocessing_code_version = models.CharField(max_length=200, blank=True)
    # [{"name": "income", "type": "numeric"}, {"name": "region", "type": "categorical"}]
    feature_spec = models.JSONField(default=list, blank=True)
    training_run = models.ForeignKey(
        TrainingRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="artifacts",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["model", "sha256"], name="artifact_once"),
            models.CheckConstraint(
                condition=models.Q(size_bytes__gte=0), name="size_>=0"
            ),
        ]

    def __str__(self):
        return f"{self.model_id}:{self.sha256[:12]}"


class VersionStatus(models.TextChoices):
    REGISTERED = "registered", "Registered"
    APPROVED = "approved", "Approved"
    ARCHIVED = "archived", "Archived"


class ModelVersion(TimeStampedModel):
    model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField()
    # Optional semantic version ("2.1.0"); its major part marks big changes.
    semantic_version = models.CharField(max_length=50, blank=True)
    artifact = models.OneToOneField(
        Artifact, on_delete=models.PROTECT, related_name="model_version"
    )
    training_run = models.ForeignKey(
        TrainingRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="versions",
    )
    description = models.TextField(blank=True)
    tags = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=12, choices=VersionStatus.choices, default=VersionStatus.REGISTERED
    )
    # Set when the version is approved for production; the model card freezes.
    production_approved_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["model", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="version_once"),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="version_>=1"
            ),
        ]

    def __str__(self):
        return f"{self.model_id and self.model.name} v{self.version}"

    @property
    def is_card_frozen(self) -> bool:
        return self.production_approved_at is not None


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"
    OUT_OF_TIME = "out_of_time", "Out of time"


class Evaluation(models.Model):
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="evaluations"
    )
    split = models.CharField(max_length=12, choices=Split.choices)
    dataset = models.ForeignKey(
        DatasetSnapshot, on_delete=models.PROTECT, related_name="evaluations"
    )
    metrics = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version", "split", "-created_at"]
        indexes = [models.Index(fields=["version", "split"])]

    def __str__(self):
        return f"{self.version} on {self.split}"


class FairnessSlice(models.Model):
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="slices"
    )
    attribute = models.CharField(max_length=100)
    group = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    metrics = models.JSONField(default=dict)

    class Meta:
        ordering = ["attribute", "group"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "attribute", "group"], name="slice_once"
            )
        ]

    def __str__(self):
        return f"{self.attribute}={self.group}"


# Eval-harness evaluations of prompt versions live in their own module; the
# import registers their models with the app.
from models_registry.llm_eval_models import (  # noqa: E402, F401
    HarnessFormat,
    LlmEvaluation,
    LlmEvaluationCases,
    PromptTuningSnapshot,
)


class ReproductionCheck(models.Model):
    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="reproduction_checks"
    )
    external_run_id = models.CharField(max_length=200, blank=True)
    artifact_sha256 = models.CharField(max_length=64)
    metrics = models.JSONField(default=dict, blank=True)
    is_passed = models.BooleanField()
    # {"artifact_sha256": {"original", "rerun"}} or
    # {"metrics": {"auc": {"original", "rerun", "difference", "tolerance", "within"}}}
    differences = models.JSONField(default=dict)
    mode = models.CharField(max_length=12)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version", "-created_at"]

    def __str__(self):
        return f"reproduction of {self.version}: {'pass' if self.is_passed else 'fail'}"


# Model cards, prompt versions' and LLM application versions' content live in
# their own modules (this one is at its size limit); importing them registers
# the models and keeps ``from models_registry.models import ModelCard`` working.
from models_registry.card_models import *  # noqa: E402, F403
from models_registry.llm_app_models import *  # noqa: E402, F403
from models_registry.prompt_models import *  # noqa: E402, F403
