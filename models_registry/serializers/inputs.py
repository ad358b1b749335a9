"""Input and query-parameter serializers of the registry API: shapes and JSON
types only; the services answer the business rules with field errors."""

from rest_framework import serializers

from models_registry.models import (
    ArtifactFormat,
    DecisionDomain,
    EntryKind,
    InputRole,
    RegulatoryTier,
    RiskClass,
    ServingMode,
    Split,
    VersionStatus,
)
from models_registry.serializers.fields import (
    INT_MAX,
    FiniteNumberField,
    MetricsField,
    StrictJSONField,
    TagsField,
    TextField,
    WholeNumberField,
)


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
    kind = serializers.ChoiceField(
        choices=EntryKind.choices,
        required=False,
        help_text="model (the default), prompt or llm_app (an LLM application, "
        "whose versions pin prompt versions, a base model and parameters).",
    )
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


KIND_FILTER_CHOICES = [
    ("model", "Models"),
    ("prompt", "Prompts"),
    ("llm_app", "LLM applications"),
    ("all", "Models, prompts and LLM applications"),
]


class ModelFilters(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=KIND_FILTER_CHOICES,
        required=False,
        help_text="Models (the default), prompts, LLM applications, or all entries.",
    )
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
