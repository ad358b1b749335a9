"""Prompt templates as Gatehouse keeps and shows them: checks, the canonical
content and its sha256, the text people read, and diffs between versions.

Pure functions (no database): the services check and hash with them, the
pages and the MLflow bridge render with them.

A template is either text with ``{{variables}}`` (MLflow's syntax; Jinja2
control blocks ``{% ... %}`` are kept as written) or a chat: a list of
``{"role", "content"}`` messages. A version's content is its template, its
response format (a JSON schema, or none) and its model configuration (provider,
model, temperature, max tokens, ...); the sha256 of the canonical JSON of these
four is the version's identity.
"""

import difflib
import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from kernel.secrets import find_secrets

# MLflow's variable syntax (mlflow.prompt.constants.PROMPT_TEMPLATE_VARIABLE_PATTERN).
_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)*"
VARIABLE = re.compile(r"\{\{\s*(" + _NAME + r")\s*\}\}")
ROLES = ("system", "developer", "user", "assistant", "tool")
TEMPLATE_MAX_CHARS = 100_000  # MLflow's largest tag value
MESSAGES_MAX = 200
SETTINGS_MAX_CHARS = 20_000  # response format, model config (as JSON)
MODEL_CONFIG_NUMBERS = {
    "temperature": (0.0, None),
    "top_p": (0.0, 1.0),
    "frequency_penalty": (-2.0, 2.0),
    "presence_penalty": (-2.0, 2.0),
}
MODEL_CONFIG_COUNTS = ("max_tokens", "top_k")
MODEL_CONFIG_TEXTS = ("provider", "model_name")
SETTING_LABELS = {
    "provider": "Provider",
    "model_name": "Model",
    "temperature": "Temperature",
    "max_tokens": "Max tokens",
    "top_p": "Top p",
    "top_k": "Top k",
    "frequency_penalty": "Frequency penalty",
    "presence_penalty": "Presence penalty",
    "stop_sequences": "Stop sequences",
}


@dataclass(frozen=True)
class PromptBody:
    """A prompt version's content, checked."""

    template_type: str  # "text" or "chat"
    template: str  # the text template ("" for chat)
    messages: list[dict[str, str]]  # the chat messages ([] for text)
    response_format: dict[str, Any] | None
    model_config: dict[str, Any] | None

    def canonical(self) -> dict[str, Any]:
        is_text = self.template_type == "text"
        return {
            "type": self.template_type,
            "template": self.template if is_text else self.messages,
            "response_format": self.response_format,
            "model_config": self.model_config,
        }

    @property
    def content_hash(self) -> str:
        return content_hash(self.canonical())

    @property
    def variables(self) -> list[str]:
        return template_variables(self.template, self.messages)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(canonical: dict[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(canonical_json(canonical).encode("utf-8")).hexdigest()


def template_variables(template: str, messages: list[dict[str, str]]) -> list[str]:
    texts = [template, *(message["content"] for message in messages)]
    names: list[str] = []
    for text in texts:
        for name in VARIABLE.findall(text):
            if name not in names:
                names.append(name)
    return names


def without_variables(text: str) -> str:
    """The text with its ``{{variables}}`` removed: a template that asks for
    ``Password: {{password}}`` holds no password."""
    return VARIABLE.sub("", text)


def _text_problems(text: str, where: str) -> list[str]:
    problems = []
    is_jinja = "{%" in text and "%}" in text
    rest = without_variables(text)
    if not is_jinja and ("{{" in rest or "}}" in rest):
        problems.append(
            f"{where}: a variable is written {{{{name}}}} (letters, digits and "
            "underscores, dots between parts); this template has an unclosed or "
            "malformed {{ }}."
        )
    if is_jinja and rest.count("{%") != rest.count("%}"):
        problems.append(f"{where}: a {{% %}} block is not closed.")
    if found := find_secrets(rest):
        problems.append(
            f"{where} looks like it holds credentials ({', '.join(found)}). "
            "Secrets must never be stored in Gatehouse: remove them."
        )
    return problems


def _template_errors(template: Any) -> tuple[str, list, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    if isinstance(template, str):
        if not template.strip():
            errors["template"] = ["The template is empty."]
        elif len(template) > TEMPLATE_MAX_CHARS:
            errors["template"] = [f"At most {TEMPLATE_MAX_CHARS:,} characters."]
        elif problems := _text_problems(template, "The template"):
            errors["template"] = problems
        return "text", [], errors
    if not isinstance(template, list) or not template:
        errors["template"] = [
            "Give a text template, or a chat: a list of messages with a role and "
            "a content."
        ]
        return "chat", [], errors
    if len(template) > MESSAGES_MAX:
        errors["template"] = [f"At most {MESSAGES_MAX} messages."]
        return "chat", [], errors
    messages = []
    total = 0
    for index, message in enumerate(template, start=1):
        key = f"template.{index}"
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            errors[key] = ["Each message has exactly a role and a content."]
            continue
        role, content = message["role"], message["content"]
        if role not in ROLES:
            errors[key] = [f"The role is one of: {', '.join(ROLES)}."]
        elif not isinstance(content, str) or not content.strip():
            errors[key] = ["The content is non-empty text."]
        else:
            total += len(content)
            if problems := _text_problems(content, f"Message {index}"):
                errors[key] = problems
            messages.append({"role": role, "content": content})
    if total > TEMPLATE_MAX_CHARS:
        errors["template"] = [f"At most {TEMPLATE_MAX_CHARS:,} characters in all."]
    return "chat", messages, errors


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _model_config_errors(config: dict[str, Any]) -> list[str]:
    problems = []
    for key in MODEL_CONFIG_TEXTS:
        if key in config and not isinstance(config[key], str):
            problems.append(f"{SETTING_LABELS[key]} is text.")
    for key, (low, high) in MODEL_CONFIG_NUMBERS.items():
        if key not in config or config[key] is None:
            continue
        value = config[key]
        too_high = high is not None and _is_number(value) and value > high
        if not _is_number(value) or value < low or too_high:
            bound = f"≥ {low:g}" if high is None else f"between {low:g} and {high:g}"
            problems.append(f"{SETTING_LABELS[key]} is a number {bound}.")
    for key in MODEL_CONFIG_COUNTS:
        value = config.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            problems.append(f"{SETTING_LABELS[key]} is a whole number ≥ 1.")
    return problems


def _settings_errors(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, dict):
        return ["Must be a JSON object."]
    try:
        text = canonical_json(value)
    except (TypeError, ValueError):
        return ["Must be JSON."]
    if len(text) > SETTINGS_MAX_CHARS:
        return [f"At most {SETTINGS_MAX_CHARS:,} characters of JSON."]
    problems = _model_config_errors(value) if name == "model_config" else []
    if found := find_secrets(value):
        problems.append(
            f"Looks like it holds credentials ({', '.join(found)}). Secrets must "
            "never be stored in Gatehouse: remove them."
        )
    return problems


def check_prompt(
    template: Any, response_format: Any = None, model_config: Any = None
) -> tuple[PromptBody | None, dict[str, list[str]]]:
    """The checked content, or None and the field errors."""
    template_type, messages, errors = _template_errors(template)
    for name, value in (
        ("response_format", response_format),
        ("model_config", model_config),
    ):
        if problems := _settings_errors(name, value):
            errors[name] = problems
    if errors:
        return None, errors
    return (
        PromptBody(
            template_type=template_type,
            template=template if template_type == "text" else "",
            messages=messages,
            response_format=response_format or None,
            model_config=model_config or None,
        ),
        {},
    )


# --- What people read ----------------------------------------------------------------


def role_label(role: str) -> str:
    return role.capitalize()


def display_text(template_type: str, template: str, messages: list[dict]) -> str:
    """The template as text: a text template as written, a chat as
    role-labelled blocks ("System:" then its content), never JSON."""
    if template_type != "chat":
        return template
    return "\n\n".join(
        f"{role_label(message['role'])}:\n{message['content']}" for message in messages
    )


def _setting_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_setting_text(item)}" for key, item in value.items())
    return str(value)


def settings_lines(
    model_config: dict[str, Any] | None, response_format: dict[str, Any] | None
) -> list[str]:
    """The model configuration and response format as labelled lines."""
    lines = []
    for key, value in (model_config or {}).items():
        if value is None:
            continue
        label = SETTING_LABELS.get(key, key.replace("_", " ").capitalize())
        lines.append(f"{label}: {_setting_text(value)}")
    if response_format:
        properties = response_format.get("properties")
        if isinstance(properties, dict) and properties:
            lines.append("Response format: JSON with " + ", ".join(sorted(properties)))
        elif isinstance(response_format.get("type"), str):
            lines.append(f"Response format: JSON {response_format['type']}")
        else:
            lines.append("Response format: " + _setting_text(response_format))
    return lines


@dataclass(frozen=True)
class DiffLine:
    change: str  # "same", "added", "removed"
    text: str

    @property
    def marker(self) -> str:
        return {"added": "+", "removed": "-"}.get(self.change, " ")


def text_diff(old: str, new: str) -> list[DiffLine]:
    """Line diff of two texts (difflib), as lines marked same/added/removed."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if tag == "equal":
            lines += [DiffLine("same", text) for text in old_lines[a_start:a_end]]
            continue
        lines += [DiffLine("removed", text) for text in old_lines[a_start:a_end]]
        lines += [DiffLine("added", text) for text in new_lines[b_start:b_end]]
    return lines
