"""How MLflow's prompt registry maps onto Gatehouse's prompt entries.

MLflow 3 keeps a prompt as a registered model tagged ``mlflow.prompt.is_prompt``
and each prompt version as a model version whose tags hold the template
(``mlflow.prompt.text``; a chat as the JSON of its messages), its type, response
format and model config, registered with a placeholder source. Gatehouse
stores these as the entry's kind and the version's immutable prompt content,
and renders the same tags back on every read, so they always tell the truth
and cannot be edited as tags.
"""

import json
from typing import Any

from rest_framework.exceptions import ParseError

from kernel.guards import loads_checked
from mlflow_bridge import errors

IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
TEXT_TAG = "mlflow.prompt.text"
TYPE_TAG = "_mlflow_prompt_type"
RESPONSE_FORMAT_TAG = "_mlflow_prompt_response_format"
MODEL_CONFIG_TAG = "_mlflow_prompt_model_config"
CONTENT_TAGS = (
    IS_PROMPT_TAG,
    TEXT_TAG,
    TYPE_TAG,
    RESPONSE_FORMAT_TAG,
    MODEL_CONFIG_TAG,
)
# The sources MLflow clients register prompt versions with (the client's and
# the store's placeholder, mlflow.prompt.constants).
SOURCE_PLACEHOLDERS = frozenset({"dummy-source", "prompt-template"})
TYPES = ("text", "chat")


def is_prompt_tagged(tags: dict[str, str]) -> bool:
    return tags.get(IS_PROMPT_TAG, "").lower() == "true"


def _json_tag(tags: dict[str, str], key: str, what: str) -> Any:
    if key not in tags or tags[key] in ("", "null"):
        return None
    try:
        value = loads_checked(tags[key])
    except ParseError as error:
        raise errors.invalid(
            f"Tag {key} must be JSON: {what}. {error.detail}"
        ) from error
    if not isinstance(value, dict):
        raise errors.invalid(f"Tag {key} must be a JSON object: {what}.")
    return value


def content_from_tags(
    tags: dict[str, str],
) -> tuple[Any, dict | None, dict | None, dict[str, str]]:
    """The template, response format and model config MLflow sent as version
    tags, and the version's other tags."""
    if TEXT_TAG not in tags:
        raise errors.invalid(
            f"A prompt version needs its template (tag {TEXT_TAG}): register it "
            "with mlflow.genai.register_prompt."
        )
    template_type = tags.get(TYPE_TAG, "text")
    if template_type not in TYPES:
        raise errors.invalid(f"Tag {TYPE_TAG} is 'text' or 'chat'.")
    template: Any = tags[TEXT_TAG]
    if template_type == "chat":
        try:
            template = loads_checked(template)
        except ParseError as error:
            raise errors.invalid(
                f"A chat prompt's tag {TEXT_TAG} is the JSON list of its messages. "
                f"{error.detail}"
            ) from error
    response_format = _json_tag(tags, RESPONSE_FORMAT_TAG, "a JSON schema")
    model_config = _json_tag(
        tags, MODEL_CONFIG_TAG, "provider, model_name, temperature, max_tokens, ..."
    )
    plain = {key: value for key, value in tags.items() if key not in CONTENT_TAGS}
    return template, response_format, model_config, plain


def config_json(model_config: dict | None) -> str:
    return json.dumps(model_config) if model_config else ""


def rendered_version_tags(content) -> dict[str, str]:
    """The MLflow tags of a prompt version, from its stored content."""
    is_chat = content.template_type == "chat"
    tags = {
        IS_PROMPT_TAG: "true",
        TYPE_TAG: content.template_type,
        TEXT_TAG: json.dumps(content.messages) if is_chat else content.template,
    }
    if content.response_format:
        tags[RESPONSE_FORMAT_TAG] = json.dumps(content.response_format)
    if content.model_config:
        tags[MODEL_CONFIG_TAG] = config_json(content.model_config)
    return tags
