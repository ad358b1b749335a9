"""Importers of eval-harness outputs: each turns a harness's results document
into an ``ImportedEvaluation`` (harness, version, metrics, per-case results) or
raises ``FormatError`` naming what is wrong. Pure functions: nothing is stored
here (``models_registry.services.llm_evaluations`` stores)."""

from collections.abc import Callable
from typing import Any

from models_registry.eval_formats import generic, mlflow_genai, promptfoo
from models_registry.eval_formats.common import (
    MAX_CASES,
    MAX_CASES_BYTES,
    FormatError,
    ImportedEvaluation,
)
from models_registry.llm_eval_models import HarnessFormat

PARSERS: dict[str, Callable[[Any], ImportedEvaluation]] = {
    HarnessFormat.PROMPTFOO: promptfoo.parse,
    HarnessFormat.MLFLOW_GENAI: mlflow_genai.parse,
    HarnessFormat.GENERIC: generic.parse,
}

__all__ = [
    "MAX_CASES",
    "MAX_CASES_BYTES",
    "PARSERS",
    "FormatError",
    "ImportedEvaluation",
    "parse",
]


def parse(source_format: str, document: Any) -> ImportedEvaluation:
    if source_format not in PARSERS:
        raise FormatError(
            {"format": [f"Unknown harness format; use one of: {', '.join(PARSERS)}."]}
        )
    return PARSERS[source_format](document)
