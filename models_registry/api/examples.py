"""Example bodies shown in the OpenAPI schema (and checked against real
responses by the API tests, so they cannot drift from what the API says)."""

SHA_ARTIFACT = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
SHA_DATASET = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
SHA_ENVIRONMENT = "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9"
COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"
WHEN = "2025-03-01T09:30:00Z"

MODEL_CREATE = {
    "name": "credit-scoring",
    "title": "Consumer credit scoring",
    "description": "Probability of default for consumer loan applications.",
    "team": "credit-risk",
    "domain": "credit",
    "risk_class": "high",
    "regulatory_tier": "high",
    "serving_mode": "real_time",
    "offline_success_metrics": [
        {"metric": "auc", "direction": "higher", "threshold": 0.75}
    ],
    "online_success_metrics": [
        {"kpi": "approval_rate", "direction": "higher", "threshold": 0.5}
    ],
    "latency_slo_ms": 150,
    "latency_slo_percentile": 99,
    "reproducibility_tolerance": {"mode": "metrics", "tolerances": {"auc": 0.005}},
    "low_confidence_threshold": 0.3,
    "fairness_attributes": ["sex"],
    "fairness_max_disparity": 0.05,
}

MODEL = {
    **MODEL_CREATE,
    "kind": "model",
    "latest_version": 3,
    "created_at": WHEN,
    "updated_at": WHEN,
}

MODEL_PATCH = {
    "title": "Consumer credit scoring (EU)",
    "offline_success_metrics": [
        {"metric": "auc", "direction": "higher", "threshold": 0.78}
    ],
}

RISK_CLASS_CHANGE = {
    "risk_class": "critical",
    "reason": "Now decides loans without human review (policy CR-12).",
}

ARTIFACT = {
    "uri": "s3://models/credit-scoring/3/model.pkl",
    "sha256": SHA_ARTIFACT,
    "size_bytes": 4_812_331,
    "format": "sklearn",
    "preprocessing_code_version": "prep-1.4.2",
    "feature_spec": [
        {"name": "income", "type": "numeric"},
        {"name": "region", "type": "categorical"},
    ],
}

RUN_CREATE = {
    "external_run_id": "mlflow-7c1e2a",
    "code_repository": "https://git.example.com/credit/scoring",
    "code_commit": COMMIT,
    "environment_lock_hash": SHA_ENVIRONMENT,
    "entrypoint": "train.py",
    "parameters": {"max_depth": 6, "learning_rate": 0.1},
    "random_seed": 42,
    "started_at": "2025-03-01T08:00:00Z",
    "ended_at": "2025-03-01T09:10:00Z",
    "inputs": [{"snapshot": 12, "role": "train"}, {"snapshot": 13, "role": "test"}],
}

RUN = {
    "id": 7,
    "model": "credit-scoring",
    **{key: value for key, value in RUN_CREATE.items() if key != "inputs"},
    "inputs": [
        {
            "snapshot": 12,
            "name": "loans-2019-2023",
            "sha256": SHA_DATASET,
            "role": "train",
        },
    ],
    "created_at": WHEN,
}

CARD_TEXT = {
    "intended_use": "Score consumer loan applications.",
    "limitations": "Weak on thin-file applicants.",
}

VERSION_REGISTER = {
    "artifact": ARTIFACT,
    "run": RUN_CREATE,
    "description": "Gradient boosting, retrained on 2019-2023.",
    "tags": {"stage": "candidate", "ticket": "CR-101"},
    "semantic_version": "2.1.0",
    "card": CARD_TEXT,
}

VERSION_REGISTER_WITH_RUN_ID = {
    "artifact": ARTIFACT,
    "run_id": 7,
    "tags": {"stage": "candidate"},
}

VERSION = {
    "id": 31,
    "model": "credit-scoring",
    "version": 3,
    "semantic_version": "2.1.0",
    "status": "registered",
    "description": "Gradient boosting, retrained on 2019-2023.",
    "tags": {"stage": "candidate", "ticket": "CR-101"},
    "artifact": {"id": 31, **ARTIFACT},
    "training_run": {"id": 7, "external_run_id": "mlflow-7c1e2a"},
    "registered_by": "dana",
    "production_approved_at": None,
    "is_card_frozen": False,
    "created_at": WHEN,
    "updated_at": WHEN,
}

VERSION_PATCH = {"description": "Candidate for the May release.", "tags": {"a": "b"}}

CARD = {
    "version": 31,
    "revision": 2,
    "is_frozen": False,
    "is_complete": False,
    "intended_use": "Score consumer loan applications.",
    "out_of_scope_uses": "Business lending.",
    "users": "Credit officers.",
    "limitations": "Weak on thin-file applicants.",
    "ethical_considerations": "",
    "training_data_summary": "Loans 2019-2023.",
    "evaluation_data_summary": "Loans 2024.",
    "caveats": "",
    "recommendations": "",
    "updated_at": WHEN,
    "updated_by": "dana",
}

CARD_REVISION = {
    "revision": 2,
    "content": {
        key: CARD[key]
        for key in (
            "intended_use",
            "out_of_scope_uses",
            "users",
            "limitations",
            "ethical_considerations",
            "training_data_summary",
            "evaluation_data_summary",
            "caveats",
            "recommendations",
        )
    },
    "edited_by": "dana",
    "edited_at": WHEN,
}

EVALUATION_CREATE = {
    "split": "test",
    "dataset": 13,
    "metrics": {"auc": 0.81, "ks": 0.42},
    "slices": [
        {"attribute": "sex", "group": "female", "size": 4000, "metrics": {"auc": 0.80}},
        {"attribute": "sex", "group": "male", "size": 6000, "metrics": {"auc": 0.82}},
    ],
}

EVALUATION = {
    "id": 5,
    "version": 31,
    "split": "test",
    "dataset": {"id": 13, "name": "loans-2024", "sha256": SHA_DATASET},
    "metrics": {"auc": 0.81, "ks": 0.42},
    "slices": EVALUATION_CREATE["slices"],
    "disparities": [
        {
            "attribute": "sex",
            "metric": "auc",
            "best_group": "male",
            "worst_group": "female",
            "best": 0.82,
            "worst": 0.80,
            "gap": 0.02,
            "is_within_threshold": True,
        },
    ],
    "created_at": WHEN,
}

REPRODUCTION_CREATE = {
    "artifact_sha256": SHA_ARTIFACT,
    "metrics": {"auc": 0.812},
    "external_run_id": "mlflow-rerun-91",
}

REPRODUCTION = {
    "id": 4,
    "version": 31,
    "external_run_id": "mlflow-rerun-91",
    "artifact_sha256": SHA_ARTIFACT,
    "metrics": {"auc": 0.812},
    "mode": "metrics",
    "is_passed": True,
    "differences": {
        "metrics": {
            "auc": {
                "original": 0.81,
                "rerun": 0.812,
                "difference": 0.002,
                "tolerance": 0.005,
                "within": True,
            }
        }
    },
    "checked_by": "dana",
    "created_at": WHEN,
}

CHECKLIST = {
    "version": 31,
    "model": "credit-scoring",
    "is_passed": False,
    "items": [
        {
            "id": "success_metrics_defined",
            "stage": 1,
            "title": "Success metrics defined",
            "status": "pass",
            "reason": "Offline: auc ≥ 0.75. Online: approval_rate ≥ 0.5.",
            "details": {},
        },
        {
            "id": "reproducibility_verified",
            "stage": 2,
            "title": "Reproducibility verified",
            "status": "fail",
            "reason": "No reproduction check recorded.",
            "details": {},
        },
    ],
    "review": [
        {
            "id": "reproducibility",
            "title": "Data and code reproducibility",
            "status": "fail",
            "items": ["lineage_recorded", "reproducibility_verified", "no_leakage"],
        }
    ],
}

DATASET_CREATE = {
    "team": "credit-risk",
    "name": "loans-2019-2023",
    "uri": "s3://datasets/loans/2019-2023.parquet",
    "sha256": SHA_DATASET,
    "row_count": 1_250_000,
    "schema": [
        {"name": "income", "type": "float"},
        {"name": "email", "type": "string"},
        {"name": "applied_at", "type": "timestamp"},
    ],
    "time_column": "applied_at",
    "time_range_start": "2019-01-01T00:00:00Z",
    "time_range_end": "2023-12-31T23:59:59Z",
    "pii_columns": [{"column": "email", "handling": "hashed", "legal_basis": ""}],
    "parents": [],
}

DATASET = {"id": 12, **DATASET_CREATE, "created_at": WHEN}
