"""Shapes of the LLM evaluation API: an import's body, an evaluation, its
per-case results, and a prompt's tuning snapshots."""

from rest_framework import serializers

from models_registry.llm_eval_models import HarnessFormat
from models_registry.serializers.fields import (
    StrictJSONField,
    TextField,
    WholeNumberField,
)
from models_registry.serializers.inputs import InputSerializer
from models_registry.serializers.outputs import DatasetSummaryOutput


class LlmEvaluationImportInput(InputSerializer):
    format = serializers.ChoiceField(
        choices=HarnessFormat.choices,
        help_text="`promptfoo` (the file of `promptfoo eval -o results.json`), "
        "`mlflow_genai` (an `mlflow.genai.evaluate` export) or `generic`.",
    )
    results = StrictJSONField(kind=dict, help_text="The harness's results document.")
    is_safety = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A safety or red-team evaluation; default: what the document "
        "says (promptfoo red-team runs, the generic format's `is_safety`).",
    )
    judge_model = TextField(
        required=False, allow_blank=True, max_length=200, default=""
    )
    dataset = WholeNumberField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="An existing dataset snapshot of the team holding the eval "
        "cases; default: found or made from the sha256 of the cases.",
    )
    dataset_name = TextField(
        required=False, allow_blank=True, max_length=200, default=""
    )


class LlmEvaluationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField(source="version_id")
    format = serializers.CharField(source="source_format")
    harness = serializers.CharField()
    harness_version = serializers.CharField()
    dataset = DatasetSummaryOutput()
    judge_model = serializers.CharField()
    metrics = serializers.DictField(child=serializers.FloatField())
    is_safety = serializers.BooleanField()
    case_count = serializers.IntegerField()
    passed_count = serializers.IntegerField()
    source_sha256 = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()


class LlmCaseOutput(serializers.Serializer):
    case = serializers.CharField()
    input = serializers.CharField()
    output = serializers.CharField()
    expected = serializers.CharField()
    passed = serializers.BooleanField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    metrics = serializers.DictField(child=serializers.FloatField())
    latency_ms = serializers.FloatField(allow_null=True)
    cost = serializers.FloatField(allow_null=True)
    error = serializers.CharField()


class LlmCasesOutput(serializers.Serializer):
    evaluation = serializers.IntegerField()
    cases = LlmCaseOutput(many=True)


class TuningDeclareInput(InputSerializer):
    snapshot = WholeNumberField(min_value=1)


class TuningSnapshotOutput(serializers.Serializer):
    version = serializers.IntegerField(source="version_id")
    snapshot = DatasetSummaryOutput()
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
