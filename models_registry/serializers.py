"""Shapes of the registry API.

Input serializers check shapes and JSON types only — text is text, numbers are
finite numbers, JSON holds no NaN/Infinity — and never the business rules: the
services answer those with field errors. Output serializers only render.
"""

import math
from dataclasses import asdict
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from models_registry.checklist import fairness_disparities
from models_registry.models import (
    ArtifactFormat,
    DecisionDomain,
    InputRole,
    RegulatoryTier,
    RiskClass,
    ServingMode,
    Split,
    VersionStatus,
)

BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


# --- Strict fields ------------------------------------------------------------------


class TextField(serializers.CharField):
    """Text that must arrive as a JSON string (DRF would also take numbers)."""

    default_error_messages = {"invalid": "Must be text."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumberField(serializers.IntegerField):
    """A JSON integer: no strings, booleans or fractions."""

    default_error_messages = {"invalid": "Must be a whole number."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", -BIGINT_MAX)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    return False


@extend_schema_field(OpenApiTypes.NUMBER)
class FiniteNumberField(serializers.Field):
    """A JSON number that is finite: NaN, Infinity and text are field errors."""

    default_error_messages = {"invalid": "Must be a finite number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        try:
            is_finite = math.isfinite(data)
        except OverflowError:  # an integer beyond any float
            is_finite = False
        if not is_finite:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class StrictJSONField(serializers.JSONField):
    """Free-form JSON of one container type, with finite numbers only.

    The JSON parser of this API accepts NaN and Infinity so that they come back
    as a field error here (naming where they are) rather than as an unparseable
    body; PostgreSQL could not store them anyway.
    """

    default_error_messages = {
        "type": "Must be {kind}.",
        "non_finite": "{where} must be a finite number, not {value}.",
        "null_character": "{where} contains a null character.",
    }

    def __init__(self, *, kind: type | None = None, **kwargs):
        self.kind = kind
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if self.kind is not None and not isinstance(data, self.kind):
            self.fail("type", kind={list: "a list", dict: "an object"}[self.kind])
        # Before DRF's own check, which calls any NaN merely "not valid JSON".
        self._check(data, "")
        return super().to_internal_value(data)

    def _check(self, value: Any, where: str) -> None:
        label = where or "The value"
        if _non_finite(value):
            self.fail("non_finite", where=label, value=value)
        if isinstance(value, str) and "\x00" in value:
            self.fail("null_character", where=label)
        if isinstance(value, dict):
            for key, child in value.items():
                if "\x00" in str(key):
                    self.fail("null_character", where=label)
                self._check(child, f"{where}.{key}" if where else str(key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                self._check(child, f"{where}[{index}]" if where else f"[{index}]")


class MetricsField(serializers.DictField):
    """An object of metric names to finite numbers."""

    child = FiniteNumberField()
    default_error_messages = {"not_a_dict": "Must be an object of names to numbers."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        for name in value:
            if "\x00" in name:
                raise serializers.ValidationError(
                    "Metric names cannot contain null characters."
                )
        return value


class TagsField(serializers.DictField):
    """An object of text keys to text values."""

    child = TextField(allow_blank=True, max_length=500)
    default_error_messages = {"not_a_dict": "Must be an object of text to text."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        for key in value:
            if "\x00" in key or len(key) > 200:
                raise serializers.ValidationError(
                    f"Tag name “{key[:40]}” must be text of at most 200 characters."
                )
        return value


# --- Input -------------------------------------------------------------------------


class InputSerializer(serializers.Serializer):
    """Refuses fields it does not know, so that a typo is not silently dropped."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {str(name): ["Unknown field."] for name in unknown}
                )
        return value


class ModelCreateInput(InputSerializer):
    name = serializers.SlugField(max_length=100)
    title = TextField(max_length=200)
    description = TextField(required=False, allow_blank=True, trim_whitespace=False)
    team = serializers.SlugField(max_length=100, help_text="Slug of the owning team.")
    domain = serializers.ChoiceField(choices=DecisionDomain.choices)
    risk_class = serializers.ChoiceField(choices=RiskClass.choices)
    regulatory_tier = serializers.ChoiceField(choices=RegulatoryTier.choices)
    serving_mode = serializers.ChoiceField(choices=ServingMode.choices)
    offline_success_metrics = StrictJSONField(
        kind=list,
        required=False,
        help_text='[{"metric": "auc", "direction": "higher", "threshold": 0.75}]',
    )
    online_success_metrics = StrictJSONField(
        kind=list,
        required=False,
        help_text='[{"kpi": "approval_rate", "direction": "higher", "threshold": 0.5}]',
    )
    latency_slo_ms = WholeNumberField(
        required=False, allow_null=True, min_value=1, max_value=INT_MAX
    )
    latency_slo_percentile = WholeNumberField(required=False, min_value=0)
    reproducibility_tolerance = StrictJSONField(
        kind=dict,
        required=False,
        help_text='{"mode": "exact_hash"} or '
        '{"mode": "metrics", "tolerances": {"auc": 0.005}}',
    )
    low_confidence_threshold = FiniteNumberField(required=False, allow_null=True)
    fairness_attributes = serializers.ListField(
        child=TextField(max_length=100), required=False
    )
    fairness_max_disparity = FiniteNumberField(required=False)


class ModelUpdateInput(ModelCreateInput):
    """Every descriptive field is optional. ``name``, ``team`` and ``risk_class``
    are passed through so that the service can say why they cannot change here."""

    name = serializers.JSONField(required=False)
    team = serializers.JSONField(required=False)
    risk_class = serializers.JSONField(required=False)


class RiskClassChangeInput(InputSerializer):
    risk_class = serializers.ChoiceField(choices=RiskClass.choices)
    reason = TextField(allow_blank=True, max_length=2000)


class RunInputSnapshotInput(InputSerializer):
    snapshot = WholeNumberField(min_value=1, help_text="Dataset snapshot id.")
    role = serializers.ChoiceField(choices=InputRole.choices)


class RunCreateInput(InputSerializer):
    external_run_id = TextField(max_length=200)
    code_repository = TextField(max_length=500)
    code_commit = TextField(max_length=100)
    environment_lock_hash = TextField(max_length=100)
    entrypoint = TextField(required=False, allow_blank=True, max_length=500)
    parameters = StrictJSONField(kind=dict, required=False)
    random_seed = WholeNumberField(required=False, allow_null=True)
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    inputs = RunInputSnapshotInput(many=True, required=False)


class ArtifactInput(InputSerializer):
    uri = TextField(max_length=1000)
    sha256 = TextField(max_length=100)
    size_bytes = WholeNumberField(min_value=0)
    format = serializers.ChoiceField(choices=ArtifactFormat.choices)
    preprocessing_code_version = TextField(
        required=False, allow_blank=True, max_length=200
    )
    feature_spec = StrictJSONField(
        kind=list,
        required=False,
        help_text='[{"name": "income", "type": "numeric"}]',
    )


class CardInput(InputSerializer):
    """Model card text; only the fields given change."""

    intended_use = TextField(required=False, allow_blank=True, trim_whitespace=False)
    out_of_scope_uses = TextField(
        required=False, allow_blank=True, trim_whitespace=False
    )
    users = TextField(required=False, allow_blank=True, trim_whitespace=False)
    limitations = TextField(required=False, allow_blank=True, trim_whitespace=False)
    ethical_considerations = TextField(
        required=False, allow_blank=True, trim_whitespace=False
    )
    training_data_summary = TextField(
        required=False, allow_blank=True, trim_whitespace=False
    )
    evaluation_data_summary = TextField(
        required=False, allow_blank=True, trim_whitespace=False
    )
    caveats = TextField(required=False, allow_blank=True, trim_whitespace=False)
    recommendations = TextField(required=False, allow_blank=True, trim_whitespace=False)


class CardUpdateInput(CardInput):
    base_revision = WholeNumberField(
        required=False,
        min_value=1,
        help_text="The revision your edit starts from: if someone saved another "
        "revision since, the edit is refused with 409 instead of overwriting it.",
    )


class VersionRegisterInput(InputSerializer):
    artifact = ArtifactInput()
    run_id = WholeNumberField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Id of a training run of this model recorded earlier.",
    )
    run = RunCreateInput(
        required=False,
        allow_null=True,
        help_text="A training run to record with the version (or reuse, by "
        "external_run_id).",
    )
    description = TextField(required=False, allow_blank=True, trim_whitespace=False)
    tags = TagsField(required=False)
    semantic_version = TextField(required=False, allow_blank=True, max_length=50)
    card = CardInput(required=False)

    def validate(self, attrs):
        if attrs.get("run_id") is not None and attrs.get("run") is not None:
            raise serializers.ValidationError(
                {"run": ["Give either “run” or “run_id”, not both."]}
            )
        return attrs


class VersionUpdateInput(InputSerializer):
    description = TextField(required=False, allow_blank=True, trim_whitespace=False)
    tags = TagsField(required=False)


class EvaluationSliceInput(InputSerializer):
    attribute = TextField(max_length=100)
    group = TextField(max_length=100)
    size = WholeNumberField(min_value=0, max_value=INT_MAX)
    metrics = MetricsField(required=False)


class EvaluationCreateInput(InputSerializer):
    split = serializers.ChoiceField(choices=Split.choices)
    dataset = WholeNumberField(min_value=1, help_text="Dataset snapshot id.")
    metrics = MetricsField()
    slices = EvaluationSliceInput(many=True, required=False)


class ReproductionCreateInput(InputSerializer):
    artifact_sha256 = TextField(max_length=100)
    metrics = MetricsField(required=False)
    external_run_id = TextField(required=False, allow_blank=True, max_length=200)


class DatasetCreateInput(InputSerializer):
    team = serializers.SlugField(max_length=100)
    name = TextField(max_length=200)
    uri = TextField(max_length=1000)
    sha256 = TextField(max_length=100)
    row_count = WholeNumberField(min_value=0)
    schema = StrictJSONField(
        kind=list, help_text='[{"name": "income", "type": "float"}, …]'
    )
    time_column = TextField(required=False, allow_blank=True, max_length=200)
    time_range_start = serializers.DateTimeField(required=False, allow_null=True)
    time_range_end = serializers.DateTimeField(required=False, allow_null=True)
    pii_columns = StrictJSONField(
        kind=list,
        required=False,
        help_text='[{"column": "email", "handling": "hashed", "legal_basis": ""}]',
    )
    parents = serializers.ListField(
        child=WholeNumberField(min_value=1),
        required=False,
        help_text="Ids of the snapshots this one was derived from.",
    )


# --- Query parameters ----------------------------------------------------------------


class ModelFilters(serializers.Serializer):
    risk_class = serializers.ChoiceField(choices=RiskClass.choices, required=False)
    domain = serializers.ChoiceField(choices=DecisionDomain.choices, required=False)
    serving_mode = serializers.ChoiceField(choices=ServingMode.choices, required=False)
    team = serializers.SlugField(required=False)
    status = serializers.ChoiceField(choices=VersionStatus.choices, required=False)
    search = serializers.CharField(required=False, max_length=200)


class ModelVersionFilters(serializers.Serializer):
    status = serializers.ChoiceField(choices=VersionStatus.choices, required=False)
    tag = serializers.RegexField(
        r"^[^=]+=.*$",
        required=False,
        max_length=700,
        error_messages={"invalid": "Must be key=value."},
        help_text="Versions carrying this tag, as key=value.",
    )


class VersionFilters(ModelVersionFilters):
    model = serializers.SlugField(required=False, help_text="The model's name.")


class DatasetFilters(serializers.Serializer):
    team = serializers.SlugField(required=False)
    sha256 = serializers.CharField(required=False, max_length=100)
    search = serializers.CharField(required=False, max_length=200)


# --- Output ------------------------------------------------------------------------


class ErrorOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField())
    )


class ModelOutput(serializers.Serializer):
    name = serializers.SlugField()
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
