"""Writes of the registry. Each function is one transaction with its audit event.

Lock order, when a service locks several rows: the registered model first, then
its versions (by pk), then the audit chain (taken by ``audit_record``).

Split by sub-domain; callers keep using ``from models_registry import services``
and ``services.<name>``.
"""

from models_registry.services.cards import model_card_update
from models_registry.services.datasets import dataset_snapshot_create
from models_registry.services.evaluations import evaluation_record
from models_registry.services.llm_apps import llm_app_version_register
from models_registry.services.preconditions import (
    holds_globally,
    is_model_name_taken,
)
from models_registry.services.prompts import (
    prompt_body,
    prompt_discard,
    prompt_version_register,
)
from models_registry.services.registered_models import (
    NAME_TAKEN,
    REVIEWER_PERMISSIONS,
    TEAM_PERMISSIONS,
    model_create,
    model_reviewer_assign,
    model_risk_class_change,
    model_update,
)
from models_registry.services.reproduction import reproduction_check_record
from models_registry.services.runs import training_run_create
from models_registry.services.versions import (
    model_version_mark_approved,
    model_version_register,
    model_version_register_with_run,
    model_version_update,
)

__all__ = [
    "NAME_TAKEN",
    "REVIEWER_PERMISSIONS",
    "TEAM_PERMISSIONS",
    "dataset_snapshot_create",
    "evaluation_record",
    "holds_globally",
    "is_model_name_taken",
    "llm_app_version_register",
    "model_card_update",
    "model_create",
    "model_reviewer_assign",
    "model_risk_class_change",
    "model_update",
    "model_version_mark_approved",
    "model_version_register",
    "model_version_register_with_run",
    "model_version_update",
    "prompt_body",
    "prompt_discard",
    "prompt_version_register",
    "reproduction_check_record",
    "training_run_create",
]
