"""Registry records built through the services, so every fixture obeys the rules.

Each helper takes the acting person and keyword overrides; defaults describe a
healthy high-risk credit model whose checklist passes once everything is added.
"""

import hashlib
import itertools
from datetime import UTC, datetime

from models_registry import services

_counter = itertools.count(1)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def model_values(**overrides):
    values = {
        "name": f"credit-scoring-{next(_counter)}",
        "title": "Credit scoring",
        "domain": "credit",
        "risk_class": "high",
        "regulatory_tier": "high",
        "serving_mode": "real_time",
        "latency_slo_ms": 150,
        "offline_success_metrics": [
            {"metric": "auc", "direction": "higher", "threshold": 0.75}
        ],
        "online_success_metrics": [
            {"kpi": "approval_rate", "direction": "higher", "threshold": 0.5}
        ],
        "fairness_attributes": ["sex"],
        "fairness_max_disparity": 0.05,
    }
    values.update(overrides)
    return values


def make_model(actor, team, **overrides):
    return services.model_create(actor=actor, team=team, **model_values(**overrides))


def make_snapshot(actor, team, *, start=None, end=None, **overrides):
    number = next(_counter)
    values = {
        "name": f"loans-{number}",
        "uri": f"s3://datasets/loans-{number}.parquet",
        "sha256": digest(f"snapshot-{number}"),
        "row_count": 10_000,
        "schema": [
            {"name": "income", "type": "float"},
            {"name": "region", "type": "string"},
            {"name": "email", "type": "string"},
            {"name": "applied_at", "type": "timestamp"},
        ],
        "pii_columns": [{"column": "email", "handling": "hashed", "legal_basis": ""}],
        "time_column": "applied_at",
        "time_range_start": start,
        "time_range_end": end,
    }
    values.update(overrides)
    snapshot, _ = services.dataset_snapshot_create(actor=actor, team=team, **values)
    return snapshot


def make_run(actor, model, *, inputs=(), **overrides):
    number = next(_counter)
    values = {
        "external_run_id": f"run-{number}",
        "code_repository": "https://git.example.com/credit/scoring",
        "code_commit": digest(f"commit-{number}")[:40],
        "environment_lock_hash": digest(f"env-{number}"),
        "entrypoint": "train.py",
        "parameters": {"max_depth": 6, "learning_rate": 0.1},
        "random_seed": 42,
        "inputs": list(inputs),
    }
    values.update(overrides)
    run, _ = services.training_run_create(actor=actor, model=model, **values)
    return run


FULL_CARD = {
    "intended_use": "Score consumer loan applications.",
    "out_of_scope_uses": "Business lending.",
    "users": "Credit officers.",
    "limitations": "Thin-file applicants.",
    "ethical_considerations": "Monitored for disparity by sex.",
    "training_data_summary": "Loans 2019-2023.",
    "evaluation_data_summary": "Loans 2024.",
    "caveats": "Recalibrate yearly.",
    "recommendations": "Human review below 0.3 confidence.",
}


def make_version(actor, model, *, run=None, card=None, **overrides):
    number = next(_counter)
    artifact = {
        "uri": f"s3://models/{model.name}/{number}/model.pkl",
        "sha256": digest(f"artifact-{number}"),
        "size_bytes": 123_456,
        "format": "sklearn",
        "preprocessing_code_version": "prep-1.4.2",
        "feature_spec": [
            {"name": "income", "type": "numeric"},
            {"name": "region", "type": "categorical"},
        ],
    }
    artifact.update(overrides.pop("artifact", {}))
    version, _ = services.model_version_register(
        actor=actor,
        model=model,
        artifact=artifact,
        training_run=run,
        card=FULL_CARD if card is None else card,
        **overrides,
    )
    return version


def make_passing_version(actor, model):
    """A version whose whole checklist passes (train 2019-2023, test 2024)."""
    team = model.team
    train = make_snapshot(
        actor,
        team,
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2023, 12, 31, tzinfo=UTC),
    )
    test = make_snapshot(
        actor,
        team,
        start=datetime(2024, 1, 1, tzinfo=UTC),
        end=datetime(2024, 12, 31, tzinfo=UTC),
    )
    run = make_run(actor, model, inputs=[(train, "train"), (test, "test")])
    version = make_version(actor, model, run=run)
    services.evaluation_record(
        actor=actor,
        version=version,
        split="test",
        dataset=test,
        metrics={"auc": 0.81, "ks": 0.42},
        slices=[
            {
                "attribute": "sex",
                "group": "female",
                "size": 4000,
                "metrics": {"auc": 0.80},
            },
            {
                "attribute": "sex",
                "group": "male",
                "size": 6000,
                "metrics": {"auc": 0.82},
            },
        ],
    )
    services.reproduction_check_record(
        actor=actor, version=version, artifact_sha256=version.artifact.sha256
    )
    return version
