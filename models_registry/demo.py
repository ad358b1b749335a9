"""Demo registry records for ``manage.py seed_demo``: written through the services,
idempotent (snapshots, runs and versions are found again by their hashes and ids)."""

import hashlib
from datetime import UTC, datetime

from django.contrib.auth import get_user_model

from kernel.models import Team
from models_registry import services
from models_registry.demo_prompts import seed_prompt_demo
from models_registry.models import RegisteredModel


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _at(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


CREDIT_SCHEMA = [
    {"name": "income", "type": "float"},
    {"name": "debt_ratio", "type": "float"},
    {"name": "age", "type": "int"},
    {"name": "region", "type": "string"},
    {"name": "sex", "type": "string"},
    {"name": "email", "type": "string"},
    {"name": "applied_at", "type": "timestamp"},
]
CREDIT_FEATURES = [
    {"name": "income", "type": "numeric"},
    {"name": "debt_ratio", "type": "numeric"},
    {"name": "age", "type": "numeric"},
    {"name": "region", "type": "categorical"},
]
CREDIT_PII = [
    {"column": "email", "handling": "hashed", "legal_basis": ""},
    {
        "column": "sex",
        "handling": "kept",
        "legal_basis": "fairness monitoring (GDPR 9(2)(g))",
    },
]
CREDIT_CARD = {
    "intended_use": "Probability of default for consumer loans up to 50,000 EUR.",
    "out_of_scope_uses": "Business lending, mortgages, collections prioritisation.",
    "users": "Credit officers and the automated pre-approval service.",
    "limitations": "Applicants with under 6 months of history score conservatively.",
    "ethical_considerations": "AUC and approval gaps by sex and age are monitored.",
    "training_data_summary": "Applications 2019-2023 with 12-month default outcome.",
    "evaluation_data_summary": "Applications of 2024 (out of time) held out entirely.",
    "caveats": "Recalibrate after rate changes of more than 1 point.",
    "recommendations": "Send scores with confidence under 0.3 to human review.",
}


def _snapshot(actor, team, name, *, year_from, year_to, parents=(), rows=250_000):
    snapshot, _ = services.dataset_snapshot_create(
        actor=actor,
        team=team,
        name=name,
        uri=f"s3://gatehouse-demo/{team.slug}/{name}.parquet",
        sha256=_digest(f"demo-snapshot-{team.slug}-{name}"),
        row_count=rows,
        schema=CREDIT_SCHEMA,
        time_column="applied_at",
        time_range_start=_at(year_from),
        time_range_end=_at(year_to, 12, 31),
        pii_columns=CREDIT_PII,
        parents=list(parents),
    )
    return snapshot


def _version(
    actor, model, number, *, run, test_snapshot, auc, female_auc, card, semver
):
    version, _ = services.model_version_register(
        actor=actor,
        model=model,
        artifact={
            "uri": f"s3://gatehouse-demo/models/{model.name}/{semver}/model.onnx",
            "sha256": _digest(f"demo-artifact-{model.name}-{number}"),
            "size_bytes": 2_400_000 + number * 1_000,
            "format": "onnx",
            "preprocessing_code_version": f"credit-prep=={semver}",
            "feature_spec": CREDIT_FEATURES,
        },
        training_run=run,
        semantic_version=semver,
        description=f"Gradient-boosted scorecard, release {semver}.",
        tags={"framework": "lightgbm", "owner": "credit-risk"},
        card=card,
    )
    if not version.evaluations.exists():
        services.evaluation_record(
            actor=actor,
            version=version,
            split="test",
            dataset=test_snapshot,
            metrics={"auc": auc, "ks": round(auc - 0.38, 3), "brier": 0.11},
            slices=[
                {
                    "attribute": "sex",
                    "group": "female",
                    "size": 41_000,
                    "metrics": {"auc": female_auc, "approval_rate": 0.52},
                },
                {
                    "attribute": "sex",
                    "group": "male",
                    "size": 59_000,
                    "metrics": {"auc": auc + 0.004, "approval_rate": 0.55},
                },
                {
                    "attribute": "age_band",
                    "group": "18-25",
                    "size": 12_000,
                    "metrics": {"auc": auc - 0.02, "approval_rate": 0.53},
                },
                {
                    "attribute": "age_band",
                    "group": "26-65",
                    "size": 80_000,
                    "metrics": {"auc": auc + 0.005, "approval_rate": 0.56},
                },
            ],
        )
    if not version.reproduction_checks.exists():
        services.reproduction_check_record(
            actor=actor,
            version=version,
            external_run_id=f"{run.external_run_id}-rerun",
            artifact_sha256=version.artifact.sha256,
        )
    return version


def seed_registry_demo() -> list[str]:
    """Create the demo models; return lines describing them."""
    user_model = get_user_model()
    dana = user_model.objects.get(username="dana")
    sam = user_model.objects.get(username="sam")
    admin = user_model.objects.get(username="pat")
    credit = Team.objects.get(slug="credit-risk")
    recommendations = Team.objects.get(slug="recommendations")
    for username in ("rey", "rio", "val"):
        services.model_reviewer_assign(
            actor=admin, user=user_model.objects.get(username=username), team=credit
        )
    for username in ("rey", "rio"):
        services.model_reviewer_assign(
            actor=admin,
            user=user_model.objects.get(username=username),
            team=recommendations,
        )

    model = RegisteredModel.objects.filter(name="credit-scoring").first()
    if model is None:
        model = services.model_create(
            actor=dana,
            name="credit-scoring",
            title="Consumer credit scoring",
            description="Probability of default used to approve consumer loans.",
            team=credit,
            domain="credit",
            risk_class="high",
            regulatory_tier="high",
            serving_mode="real_time",
            latency_slo_ms=120,
            latency_slo_percentile=99,
            offline_success_metrics=[
                {"metric": "auc", "direction": "higher", "threshold": 0.75},
                {"metric": "brier", "direction": "lower", "threshold": 0.15},
            ],
            online_success_metrics=[
                {"kpi": "approval_rate", "direction": "higher", "threshold": 0.45},
                {"kpi": "default_rate_90d", "direction": "lower", "threshold": 0.04},
            ],
            reproducibility_tolerance={"mode": "exact_hash"},
            low_confidence_threshold=0.3,
            fairness_attributes=["sex", "age_band"],
            fairness_max_disparity=0.05,
        )
    raw = _snapshot(
        dana,
        credit,
        "applications-raw-2019-2024",
        year_from=2019,
        year_to=2024,
        rows=1_200_000,
    )
    cleaned = _snapshot(
        dana,
        credit,
        "applications-clean-2019-2024",
        year_from=2019,
        year_to=2024,
        parents=[raw],
        rows=1_150_000,
    )
    train = _snapshot(
        dana,
        credit,
        "train-2019-2023",
        year_from=2019,
        year_to=2023,
        parents=[cleaned],
        rows=900_000,
    )
    test = _snapshot(
        dana,
        credit,
        "test-2024-oot",
        year_from=2024,
        year_to=2024,
        parents=[cleaned],
        rows=100_000,
    )
    releases = [
        (1, "1.0.0", 0.78, 0.765, CREDIT_CARD),
        (2, "1.1.0", 0.80, 0.72, CREDIT_CARD),  # fails the fairness gate
        (3, "2.0.0", 0.82, 0.81, CREDIT_CARD),
    ]
    for number, semver, auc, female_auc, card in releases:
        run, _ = services.training_run_create(
            actor=dana,
            model=model,
            external_run_id=f"credit-train-{number:03d}",
            code_repository="https://git.example.com/credit/scoring",
            code_commit=_digest(f"credit-commit-{number}")[:40],
            environment_lock_hash=_digest(f"credit-env-{number}"),
            entrypoint="python -m scoring.train",
            parameters={
                "num_leaves": 31 + number,
                "learning_rate": 0.05,
                "rounds": 800,
            },
            random_seed=20240 + number,
            started_at=_at(2025, number, 1),
            ended_at=_at(2025, number, 2),
            inputs=[(train, "train"), (test, "test")],
        )
        _version(
            dana,
            model,
            number,
            run=run,
            test_snapshot=test,
            auc=auc,
            female_auc=female_auc,
            card=card,
            semver=semver,
        )

    recs = RegisteredModel.objects.filter(name="home-feed-ranker").first()
    if recs is None:
        recs = services.model_create(
            actor=sam,
            name="home-feed-ranker",
            title="Home feed ranking",
            description="Ranks articles on the home feed.",
            team=recommendations,
            domain="recommendation",
            risk_class="low",
            regulatory_tier="minimal",
            serving_mode="batch",
            offline_success_metrics=[
                {"metric": "ndcg_at_10", "direction": "higher", "threshold": 0.30}
            ],
            online_success_metrics=[
                {"kpi": "click_through_rate", "direction": "higher", "threshold": 0.05}
            ],
            reproducibility_tolerance={
                "mode": "metrics",
                "tolerances": {"ndcg_at_10": 0.005},
            },
        )
    clicks = _snapshot(
        sam,
        recommendations,
        "clicks-2025-q1",
        year_from=2025,
        year_to=2025,
        rows=5_000_000,
    )
    holdout = _snapshot(
        sam,
        recommendations,
        "clicks-2026-01",
        year_from=2026,
        year_to=2026,
        rows=400_000,
    )
    for number in (1, 2):
        run, _ = services.training_run_create(
            actor=sam,
            model=recs,
            external_run_id=f"ranker-train-{number:03d}",
            code_repository="https://git.example.com/recs/ranker",
            code_commit=_digest(f"ranker-commit-{number}")[:40],
            environment_lock_hash=_digest(f"ranker-env-{number}"),
            entrypoint="python -m ranker.fit",
            parameters={"embedding_dim": 64 * number},
            random_seed=7,
            inputs=[(clicks, "train"), (holdout, "test")],
        )
        version, _ = services.model_version_register(
            actor=sam,
            model=recs,
            artifact={
                "uri": f"s3://gatehouse-demo/models/home-feed-ranker/{number}/model.pt",
                "sha256": _digest(f"demo-artifact-ranker-{number}"),
                "size_bytes": 48_000_000,
                "format": "torch",
                "preprocessing_code_version": f"ranker-features=={number}.0",
                "feature_spec": [
                    {"name": "dwell_seconds", "type": "numeric"},
                    {"name": "topic", "type": "categorical"},
                ],
            },
            training_run=run,
            semantic_version=f"{number}.0.0",
            card={"intended_use": "Order articles on the home feed."},
        )
        if not version.evaluations.exists():
            services.evaluation_record(
                actor=sam,
                version=version,
                split="test",
                dataset=holdout,
                metrics={"ndcg_at_10": 0.31 + 0.02 * number, "map": 0.2},
            )
    return [
        f"  models:  credit-scoring (high risk, {model.versions.count()} versions), "
        f"home-feed-ranker (low risk, {recs.versions.count()} versions)",
        *seed_prompt_demo(actor=dana, team=credit),
    ]
