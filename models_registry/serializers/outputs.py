"""Output serializers of the registry API: they only render."""

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from models_registry.fairness import fairness_disparities


class ModelOutput(serializers.Serializer):
    name = serializers.SlugField()
    kind = serializers.CharField(help_text="model, prompt or llm_app.")
    title = serializers.CharField()
    description = serializers.CharField()
    team = serializers.SlugField(source="team.slug")
    domain = serializers.CharField()
    risk_class = serializers.CharField()
    regulatory_tier = serializers.CharField()
    serving_mode = serializers.CharField()
    offline_success_metrics = serializers.JSONField()
    online_success_metrics = serializers.JSONField()
    latency_slo_ms = serializers.IntegerField(allow_null=True)
    latency_slo_percentile = serializers.IntegerField()
    reproducibility_tolerance = serializers.JSONField()
    low_confidence_threshold = serializers.FloatField(allow_null=True)
    fairness_attributes = serializers.ListField(child=serializers.CharField())
    fairness_max_disparity = serializers.FloatField()
    latest_version = serializers.IntegerField(
        source="last_version_number", help_text="0 until a version is registered."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ArtifactOutput(serializers.Serializer):
    id = serializers.IntegerField()
    uri = serializers.CharField()
    sha256 = serializers.CharField()
    size_bytes = serializers.IntegerField()
    format = serializers.CharField()
    preprocessing_code_version = serializers.CharField()
    feature_spec = serializers.JSONField()


class RunSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    external_run_id = serializers.CharField()


class VersionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.SlugField(source="model.name")
    version = serializers.IntegerField()
    semantic_version = serializers.CharField()
    status = serializers.CharField()
    description = serializers.CharField()
    tags = serializers.DictField(child=serializers.CharField())
    artifact = ArtifactOutput()
    training_run = RunSummaryOutput(allow_null=True)
    registered_by = serializers.CharField(source="registered_by.username")
    production_approved_at = serializers.DateTimeField(allow_null=True)
    is_card_frozen = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class RunInputOutput(serializers.Serializer):
    snapshot = serializers.IntegerField(source="snapshot_id")
    name = serializers.CharField(source="snapshot.name")
    sha256 = serializers.CharField(source="snapshot.sha256")
    role = serializers.CharField()


class RunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    model = serializers.SlugField(source="model.name")
    external_run_id = serializers.CharField()
    code_repository = serializers.CharField()
    code_commit = serializers.CharField()
    entrypoint = serializers.CharField()
    parameters = serializers.JSONField()
    environment_lock_hash = serializers.CharField()
    random_seed = serializers.IntegerField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    inputs = RunInputOutput(source="run_inputs.all", many=True)
    created_at = serializers.DateTimeField()


class DatasetOutput(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.SlugField(source="team.slug")
    name = serializers.CharField()
    uri = serializers.CharField()
    sha256 = serializers.CharField()
    row_count = serializers.IntegerField()
    schema = serializers.JSONField()
    time_column = serializers.CharField()
    time_range_start = serializers.DateTimeField(allow_null=True)
    time_range_end = serializers.DateTimeField(allow_null=True)
    pii_columns = serializers.JSONField()
    parents = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_parents(self, snapshot) -> list[int]:
        return sorted(parent.pk for parent in snapshot.parents.all())


class CardOutput(serializers.Serializer):
    version = serializers.IntegerField(source="version_id")
    revision = serializers.IntegerField(help_text="Grows by one with every edit.")
    is_frozen = serializers.BooleanField(
        source="version.is_card_frozen",
        help_text="Frozen once the version is approved for production.",
    )
    is_complete = serializers.BooleanField()
    intended_use = serializers.CharField()
    out_of_scope_uses = serializers.CharField()
    users = serializers.CharField()
    limitations = serializers.CharField()
    ethical_considerations = serializers.CharField()
    training_data_summary = serializers.CharField()
    evaluation_data_summary = serializers.CharField()
    caveats = serializers.CharField()
    recommendations = serializers.CharField()
    updated_at = serializers.DateTimeField()
    updated_by = serializers.CharField(source="updated_by.username")


class CardRevisionOutput(serializers.Serializer):
    revision = serializers.IntegerField()
    content = serializers.DictField(child=serializers.CharField())
    edited_by = serializers.CharField(source="edited_by.username")
    edited_at = serializers.DateTimeField()


class SliceOutput(serializers.Serializer):
    attribute = serializers.CharField()
    group = serializers.CharField()
    size = serializers.IntegerField()
    metrics = serializers.DictField(child=serializers.FloatField())


class DisparityOutput(serializers.Serializer):
    attribute = serializers.CharField()
    metric = serializers.CharField()
    best_group = serializers.CharField()
    worst_group = serializers.CharField()
    best = serializers.FloatField()
    worst = serializers.FloatField()
    gap = serializers.FloatField(help_text="best minus worst (computed).")
    is_within_threshold = serializers.BooleanField(
        help_text="gap ≤ the model's fairness_max_disparity."
    )


class DatasetSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sha256 = serializers.CharField()


class EvaluationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(source="version_id")
    split = serializers.CharField()
    dataset = DatasetSummaryOutput()
    metrics = serializers.DictField(child=serializers.FloatField())
    slices = SliceOutput(source="slices.all", many=True)
    disparities = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(DisparityOutput(many=True))
    def get_disparities(self, evaluation) -> list[dict[str, Any]]:
        """Worst first: the gap between the best and worst group of each
        attribute, for each metric every group carries."""
        threshold = self.context["fairness_max_disparity"]
        directions = self.context["metric_directions"]
        return [
            {**asdict(disparity), "is_within_threshold": disparity.gap <= threshold}
            for disparity in fairness_disparities(evaluation.slices.all(), directions)
        ]


class ReproductionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(source="version_id")
    external_run_id = serializers.CharField()
    artifact_sha256 = serializers.CharField()
    metrics = serializers.DictField(child=serializers.FloatField())
    mode = serializers.ChoiceField(choices=["exact_hash", "metrics"])
    is_passed = serializers.BooleanField()
    differences = serializers.JSONField()
    checked_by = serializers.CharField(source="checked_by.username")
    created_at = serializers.DateTimeField()


class ChecklistItemOutput(serializers.Serializer):
    id = serializers.CharField()
    stage = serializers.IntegerField(help_text="Lifecycle stage, 1 to 6.")
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=["pass", "fail", "not_applicable"])
    reason = serializers.CharField()
    details = serializers.JSONField()


class ReviewHeadingOutput(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=["pass", "fail"])
    items = serializers.ListField(child=serializers.CharField())


class ChecklistOutput(serializers.Serializer):
    version = serializers.IntegerField()
    model = serializers.SlugField()
    is_passed = serializers.BooleanField()
    items = ChecklistItemOutput(many=True)
    review = ReviewHeadingOutput(many=True)
