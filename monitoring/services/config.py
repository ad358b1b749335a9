"""Changing a model's monitoring configuration (task, thresholds, drift methods,
retrain policy, LLM call limits). The owning team does it; every change is audited."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from models_registry.selectors import model_get
from monitoring import access
from monitoring.drift import DriftConfig
from monitoring.errors import MonitoringInvalid, MonitoringPermissionDenied
from monitoring.llm.config import LlmConfig
from monitoring.models import MonitoringConfig

FIELDS = (
    "task",
    "decision_threshold",
    "drift",
    "performance_tolerance",
    "retrain_checks",
    "llm",
)


def _snapshot(config: MonitoringConfig) -> dict[str, Any]:
    return {field: getattr(config, field) for field in FIELDS}


def monitoring_config_set(
    *, actor, model_name: str, values: dict[str, Any]
) -> MonitoringConfig:
    """Change some fields of the model's configuration (the others stay)."""
    model = model_get(actor=actor, name=model_name)
    if not access.may_configure(actor, model):
        raise MonitoringPermissionDenied(
            f"Only the team owning “{model.name}” configures its monitoring."
        )
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise MonitoringInvalid(
            "The configuration was not changed.",
            fields={name: ["Unknown field."] for name in sorted(unknown)},
        )
    if "drift" in values:
        try:
            values["drift"] = DriftConfig.from_dict(values["drift"]).to_dict()
        except (TypeError, ValueError) as error:
            raise MonitoringInvalid(
                "The configuration was not changed.", fields={"drift": [str(error)]}
            ) from error
    if "llm" in values:
        try:
            values["llm"] = LlmConfig.from_dict(values["llm"]).to_dict()
        except (TypeError, ValueError) as error:
            raise MonitoringInvalid(
                "The configuration was not changed.", fields={"llm": [str(error)]}
            ) from error
    with transaction.atomic():
        config, _ = MonitoringConfig.objects.select_for_update().get_or_create(
            model=model
        )
        before = _snapshot(config)
        for field, value in values.items():
            setattr(config, field, value)
        config.updated_by = actor
        config.updated_at = timezone.now()
        config.save()
        after = _snapshot(config)
        audit_record(
            actor=actor,
            action="monitoring.config_changed",
            target=model,
            scope=model.name,
            payload={
                "diff": {
                    key: [before[key], after[key]]
                    for key in FIELDS
                    if before[key] != after[key]
                }
            },
        )
    return config
