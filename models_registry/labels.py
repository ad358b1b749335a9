"""The registry's vocabularies and audit targets, registered with
``kernel.labels`` when the app is ready (see ``ModelsRegistryConfig.ready``)."""

from django.urls import reverse

from kernel import labels
from models_registry import validation
from models_registry.checklist import FAIL, NOT_APPLICABLE, PASS
from models_registry.forms import CARD_LABELS
from models_registry.models import (
    ArtifactFormat,
    DecisionDomain,
    InputRole,
    ModelVersion,
    RegisteredModel,
    RegulatoryTier,
    RiskClass,
    ServingMode,
    Split,
    VersionStatus,
)

REPRODUCTION_MODES = [
    ("exact_hash", "Same artifact hash"),
    ("metrics", "Metrics within tolerance"),
]
PII_HANDLING_LABELS = {
    "dropped": "dropped",
    "hashed": "hashed",
    "tokenised": "tokenised",
    "kept": "kept as is",
}


def _model_urls(ids: list[str]) -> dict[str, str]:
    rows = RegisteredModel.objects.filter(pk__in=labels.digit_ids(ids))
    return {
        str(pk): reverse("registry:model-detail", args=[name])
        for pk, name in rows.values_list("pk", "name")
    }


def _version_urls(ids: list[str]) -> dict[str, str]:
    rows = ModelVersion.objects.filter(pk__in=labels.digit_ids(ids))
    return {
        str(pk): reverse("registry:version-detail", args=[name, number])
        for pk, name, number in rows.values_list("pk", "model__name", "version")
    }


def register() -> None:
    for name, choices in (
        ("domain", DecisionDomain.choices),
        ("risk_class", RiskClass.choices),
        ("regulatory_tier", RegulatoryTier.choices),
        ("serving_mode", ServingMode.choices),
        ("input_role", InputRole.choices),
        ("artifact_format", ArtifactFormat.choices),
        ("version_status", VersionStatus.choices),
        ("split", Split.choices),
        ("reproduction_mode", REPRODUCTION_MODES),
        (
            "gate_status",
            [(PASS, "Passes"), (FAIL, "Fails"), (NOT_APPLICABLE, "Not applicable")],
        ),
        ("card_field", CARD_LABELS.items()),
        (
            "pii_handling",
            [(key, PII_HANDLING_LABELS[key]) for key in validation.PII_HANDLING],
        ),
    ):
        labels.register_vocabulary(name, choices)
    labels.register_target("models_registry.registeredmodel", urls=_model_urls)
    labels.register_target("models_registry.modelversion", urls=_version_urls)
    labels.register_target(
        "models_registry.datasetsnapshot",
        urls=labels.urls_by_id("registry:dataset-detail"),
        type_label="Dataset snapshot",
    )
    labels.register_target(
        "models_registry.trainingrun", urls=labels.urls_by_id("registry:run-detail")
    )
