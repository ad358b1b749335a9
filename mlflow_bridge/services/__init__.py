"""Writes made by MLflow clients. Each is one transaction with its audit event.

Registry records are written through ``models_registry.services`` and
deployment requests through ``approvals.services``, so their rules and audit
events apply unchanged; this package adds what MLflow has and the registry does
not (model tags, free aliases, version links) and the governed aliases.

The services take the model's name (and a version's number) and plain values:
each finds the model through the selectors (so a model the actor may not see
is "not found"), checks the actor's right on it once, and locks what it
changes.

Lock order: the registered model row, then its versions, then the audit chain
(as in the registry and the approvals).
"""

from mlflow_bridge.services.aliases import alias_delete, alias_set, request_url
from mlflow_bridge.services.checks import validate_alias, validate_name
from mlflow_bridge.services.governed_aliases import (
    governed_alias_delete,
    governed_alias_save,
    validate_governed_alias,
)
from mlflow_bridge.services.prompts import registered_model_delete
from mlflow_bridge.services.registered_models import (
    registered_model_create,
    registered_model_describe,
    registered_model_tag_delete,
    registered_model_tag_set,
)
from mlflow_bridge.services.version_inputs import lineage
from mlflow_bridge.services.versions import (
    model_version_create,
    model_version_describe,
    model_version_import,
    model_version_tag_delete,
    model_version_tag_set,
)

__all__ = [
    "alias_delete",
    "alias_set",
    "governed_alias_delete",
    "governed_alias_save",
    "lineage",
    "model_version_create",
    "model_version_describe",
    "model_version_import",
    "model_version_tag_delete",
    "model_version_tag_set",
    "registered_model_create",
    "registered_model_delete",
    "registered_model_describe",
    "registered_model_tag_delete",
    "registered_model_tag_set",
    "request_url",
    "validate_alias",
    "validate_governed_alias",
    "validate_name",
]
