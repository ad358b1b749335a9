"""LLM application versions: register what a version pins."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from kernel.api import error_example
from models_registry import selectors
from models_registry.api.common import (
    BAD_REQUEST,
    FORBIDDEN,
    MODEL_NAME,
    NOT_FOUND,
    NOT_FOUND_EXAMPLE,
    RegistryView,
)
from models_registry.llm_app_selectors import llm_app_view
from models_registry.serializers import VersionOutput
from models_registry.serializers.llm_apps import (
    LlmAppPinsOutput,
    LlmAppVersionOutput,
    LlmAppVersionRegisterInput,
)
from models_registry.services.llm_apps import MESSAGE, llm_app_version_register

REGISTER_EXAMPLE = {
    "prompts": [{"name": "support-assistant", "version": 2}],
    "base_model": "openai:gpt-4.1",
    "temperature": 0.2,
    "max_tokens": 800,
    "response_format": "json_object",
    "index_snapshot": 7,
    "commit_message": "Answer from the policy handbook index",
    "tags": {"ticket": "SUP-112"},
    "card": {"intended_use": "Drafts answers to customer questions for agents."},
}


class LlmAppVersionRegister(RegistryView):
    @extend_schema(
        operation_id="llm_app_versions_register",
        tags=["versions"],
        summary="Register an LLM application version",
        description=(
            "For an entry of kind `llm_app`. A version pins the prompt versions "
            "it runs (of prompts you may see), its base model and provider as "
            "`provider:model`, its generation parameters (temperature 0-2, max "
            "tokens, response format) and, for a retrieval app, the dataset "
            "snapshot of its index (one you may see). It never changes.\n\n"
            "Idempotent by content: the same pins answer **200** with the "
            "existing version and write nothing; other pins answer **201** with "
            "the next gapless number. Unknown or invisible prompt versions and "
            "snapshots, a malformed base model, parameters out of range and "
            "anything that looks like a credential answer 400 with field "
            "errors, and nothing is stored."
        ),
        parameters=[MODEL_NAME],
        request=LlmAppVersionRegisterInput,
        responses={
            201: LlmAppVersionOutput,
            200: OpenApiResponse(
                LlmAppVersionOutput, description="Registered before: that version."
            ),
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample(
                "A retrieval app on GPT-4.1", value=REGISTER_EXAMPLE, request_only=True
            ),
            error_example(
                "Malformed base model",
                400,
                {
                    "code": "invalid",
                    "message": MESSAGE,
                    "fields": {
                        "base_model": [
                            "Write it as provider:model in lower-case provider "
                            "letters, e.g. openai:gpt-4.1, anthropic:claude-"
                            "sonnet-4-5 or vllm:llama-3.1-8b-instruct."
                        ]
                    },
                },
            ),
            NOT_FOUND_EXAMPLE,
        ],
    )
    def post(self, request, name):
        actor = request.user
        model = selectors.model_get(actor=actor, name=name)
        data = self.parse_body(LlmAppVersionRegisterInput, message=MESSAGE)
        version, created = llm_app_version_register(actor=actor, model=model, **data)
        version = selectors.version_get(actor=actor, id=version.pk)
        body = {
            **VersionOutput(version).data,
            "llm_app": LlmAppPinsOutput(llm_app_view(version)).data,
        }
        return Response(
            body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
