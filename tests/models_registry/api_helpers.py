"""What the registry API tests share: token clients, request bodies, and a
snapshot of everything a write could change."""

import itertools

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from models_registry.models import (
    Artifact,
    DatasetSnapshot,
    Evaluation,
    FairnessSlice,
    ModelCard,
    ModelCardRevision,
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
    ReproductionCheck,
    TeamReviewer,
    TrainingRun,
    TrainingRunInput,
)
from portal.services import api_token_create
from tests.models_registry.factories import digest

API = "/api/v1/"
_numbers = itertools.count(1000)

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n"
BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.abcdefghijklmnop"
PASSWORD_URI = "postgres://user:hunter22@db/x"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Persona users get passwords; hashing them the production way takes half
    a second each, which the permission matrix pays hundreds of times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user) -> APIClient:
    """A client that sends the user's personal API token (anonymous for None)."""
    client = APIClient()
    if user is not None:
        _, plaintext = api_token_create(user=user, name="tests")
        client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    return client


_TABLES = (
    RegisteredModel,
    RegisteredModelUserObjectPermission,
    RegisteredModelGroupObjectPermission,
    TeamReviewer,
    DatasetSnapshot,
    TrainingRun,
    TrainingRunInput,
    Artifact,
    ModelVersion,
    ModelCard,
    ModelCardRevision,
    Evaluation,
    FairnessSlice,
    ReproductionCheck,
    AuditEvent,
)


def registry_state() -> dict:
    """Row counts of every registry table and of the audit log, and the rows
    that can be edited in place, to compare before and after a refused write."""
    return {
        "counts": {table._meta.label: table.objects.count() for table in _TABLES},
        "models": list(RegisteredModel.objects.order_by("pk").values()),
        "versions": list(ModelVersion.objects.order_by("pk").values()),
        "cards": list(ModelCard.objects.order_by("pk").values()),
    }


def audit_count() -> int:
    return AuditEvent.objects.count()


def model_body(**overrides) -> dict:
    body = {
        "name": f"api-model-{next(_numbers)}",
        "title": "Churn",
        "team": "credit-risk",
        "domain": "marketing",
        "risk_class": "low",
        "regulatory_tier": "minimal",
        "serving_mode": "batch",
        "offline_success_metrics": [
            {"metric": "auc", "direction": "higher", "threshold": 0.7}
        ],
        "online_success_metrics": [
            {"kpi": "retention", "direction": "higher", "threshold": 0.2}
        ],
    }
    body.update(overrides)
    return body


def artifact_body(**overrides) -> dict:
    number = next(_numbers)
    body = {
        "uri": f"s3://models/api/{number}/model.onnx",
        "sha256": digest(f"api-artifact-{number}"),
        "size_bytes": 2048,
        "format": "onnx",
        "preprocessing_code_version": "prep-2.0.0",
        "feature_spec": [{"name": "income", "type": "numeric"}],
    }
    body.update(overrides)
    return body


def run_body(*inputs, **overrides) -> dict:
    number = next(_numbers)
    body = {
        "external_run_id": f"api-run-{number}",
        "code_repository": "https://git.example.com/credit/scoring",
        "code_commit": digest(f"api-commit-{number}")[:40],
        "environment_lock_hash": digest(f"api-env-{number}"),
        "entrypoint": "train.py",
        "parameters": {"max_depth": 4, "learning_rate": 0.05},
        "random_seed": 7,
        "inputs": [
            {"snapshot": snapshot.pk, "role": role} for snapshot, role in inputs
        ],
    }
    body.update(overrides)
    return body


def dataset_body(**overrides) -> dict:
    number = next(_numbers)
    body = {
        "team": "credit-risk",
        "name": f"applications-{number}",
        "uri": f"gs://datasets/applications-{number}.parquet",
        "sha256": digest(f"api-dataset-{number}"),
        "row_count": 5000,
        "schema": [
            {"name": "income", "type": "float"},
            {"name": "email", "type": "string"},
        ],
        "pii_columns": [{"column": "email", "handling": "tokenised"}],
    }
    body.update(overrides)
    return body


def evaluation_body(dataset, **overrides) -> dict:
    body = {
        "split": "test",
        "dataset": dataset.pk,
        "metrics": {"auc": 0.8, "ks": 0.4},
        "slices": [
            {
                "attribute": "sex",
                "group": "female",
                "size": 40,
                "metrics": {"auc": 0.7},
            },
            {"attribute": "sex", "group": "male", "size": 60, "metrics": {"auc": 0.8}},
        ],
    }
    body.update(overrides)
    return body
