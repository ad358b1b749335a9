"""How MLflow's registry maps onto Gatehouse's records (see docs/mlflow.md).

Tags under ``gatehouse.`` are not stored as tags: on creation they fill the
governed fields of the model or the version, and on reads they are rendered
from those fields, so they always tell the truth and cannot be edited as tags.
"""

import re

PREFIX = "gatehouse."

# Registered model: tag → RegisteredModel field, and the default when absent.
MODEL_FIELD_TAGS = {
    "gatehouse.risk_class": "risk_class",
    "gatehouse.domain": "domain",
    "gatehouse.regulatory_tier": "regulatory_tier",
    "gatehouse.serving_mode": "serving_mode",
}
MODEL_DEFAULTS = {
    "risk_class": "medium",
    "domain": "other",
    "regulatory_tier": "limited",
    "serving_mode": "batch",
}
TEAM_TAG = "gatehouse.team"
TITLE_TAG = "gatehouse.title"
LATENCY_TAG = "gatehouse.latency_slo_ms"
MODEL_CREATE_TAGS = (*MODEL_FIELD_TAGS, TEAM_TAG, TITLE_TAG, LATENCY_TAG)

# Model version: tags that describe the artifact (rendered back from it) ...
SHA256_TAG = "gatehouse.sha256"
SIZE_TAG = "gatehouse.size_bytes"
FORMAT_TAG = "gatehouse.format"
ARTIFACT_FIELD_TAGS = {
    SHA256_TAG: "artifact__sha256",
    SIZE_TAG: "artifact__size_bytes",
    FORMAT_TAG: "artifact__format",
}
PREPROCESSING_TAG = "gatehouse.preprocessing_code_version"
FEATURE_SPEC_TAG = "gatehouse.feature_spec"
SEMANTIC_VERSION_TAG = "gatehouse.semantic_version"
# ... and the training run's lineage, needed when the run is not yet recorded.
CODE_REPOSITORY_TAG = "gatehouse.code_repository"
CODE_COMMIT_TAG = "gatehouse.code_commit"
ENVIRONMENT_TAG = "gatehouse.environment_lock_hash"
SEED_TAG = "gatehouse.random_seed"
ENTRYPOINT_TAG = "gatehouse.entrypoint"
LINEAGE_TAGS = (CODE_REPOSITORY_TAG, CODE_COMMIT_TAG, ENVIRONMENT_TAG)
VERSION_CREATE_TAGS = (
    *ARTIFACT_FIELD_TAGS,
    PREPROCESSING_TAG,
    FEATURE_SPEC_TAG,
    SEMANTIC_VERSION_TAG,
    *LINEAGE_TAGS,
    SEED_TAG,
    ENTRYPOINT_TAG,
)
DEFAULT_FORMAT = "mlflow"

# MLflow's stage names, computed from deployments (never set).
STAGE_NONE = "None"
STAGE_STAGING = "Staging"
STAGE_PRODUCTION = "Production"
STAGE_ARCHIVED = "Archived"
STAGES = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)

# MLflow's alias rules (mlflow.utils.validation).
ALIAS_PATTERN = re.compile(r"^[\w\-]*$")
VERSION_ALIAS_PATTERN = re.compile(r"^[vV]\d+$")
LATEST_ALIAS = "latest"
# Gatehouse model names are slugs.
NAME_PATTERN = re.compile(r"^[-a-zA-Z0-9_]+$")
NAME_MAX_LENGTH = 100


def is_reserved(key: str) -> bool:
    return key.startswith(PREFIX)


def canonical_stage(stage: str) -> str | None:
    for known in STAGES:
        if known.lower() == stage.lower():
            return known
    return None
