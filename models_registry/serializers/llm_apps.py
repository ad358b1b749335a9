"""Shapes of LLM application versions: what a registration sends, and what
a version pins in the answer."""

from rest_framework import serializers

from models_registry.llm_app_models import ResponseFormat
from models_registry.serializers.fields import (
    BIGINT_MAX,
    INT_MAX,
    FiniteNumberField,
    TagsField,
    TextField,
    WholeNumberField,
)
from models_registry.serializers.inputs import InputSerializer
from models_registry.serializers.outputs import VersionOutput


class PromptPinInput(InputSerializer):
    name = serializers.SlugField(max_length=100, help_text="A prompt entry's name.")
    version = WholeNumberField(min_value=1, max_value=INT_MAX)


class LlmAppCardInput(InputSerializer):
    """The application card: the prompt card's four fields."""

    intended_use = TextField(required=False, allow_blank=True, trim_whitespace=False)
    out_of_scope_uses = TextField(
        required=False, allow_blank=True, trim_whitespace=False
    )
    limitations = TextField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Known failure modes.",
    )
    ethical_considerations = TextField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Safety mitigations.",
    )


class LlmAppVersionRegisterInput(InputSerializer):
    prompts = PromptPinInput(
        many=True, help_text="The prompt versions the application runs, in order."
    )
    base_model = TextField(
        max_length=241,
        help_text="provider:model, e.g. openai:gpt-4.1 or vllm:llama-3.1-8b-instruct.",
    )
    temperature = FiniteNumberField(help_text="From 0 to 2.")
    max_tokens = WholeNumberField(min_value=1, max_value=INT_MAX)
    response_format = serializers.ChoiceField(
        choices=ResponseFormat.choices, required=False, default=ResponseFormat.TEXT
    )
    index_snapshot = WholeNumberField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=BIGINT_MAX,
        help_text="Id of the dataset snapshot of the retrieval index (retrieval "
        "apps only).",
    )
    commit_message = TextField(required=False, allow_blank=True, trim_whitespace=False)
    tags = TagsField(required=False)
    card = LlmAppCardInput(required=False)


class PinnedPromptOutput(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()
    content_hash = serializers.CharField()


class LlmAppPinsOutput(serializers.Serializer):
    prompts = PinnedPromptOutput(many=True)
    base_model = serializers.CharField(source="content.base_model")
    provider = serializers.CharField(source="content.provider")
    model_name = serializers.CharField(source="content.model_name")
    temperature = serializers.FloatField(source="content.temperature")
    max_tokens = serializers.IntegerField(source="content.max_tokens")
    response_format = serializers.CharField(source="content.response_format")
    index_snapshot = serializers.IntegerField(
        source="content.index_snapshot_id", allow_null=True
    )
    content_hash = serializers.CharField(source="content.content_hash")


class LlmAppVersionOutput(VersionOutput):
    llm_app = LlmAppPinsOutput()
