"""A model with a known lineage, built through the services (lineage, impact and
report tests).

Snapshots (parent → child)::

    z-landing → a-raw → b-clean ──→ d-joined → e-train
                     └→ c-dedup ─┘
    t-test (no parents)

so e-train's ancestors go four steps up (z-landing) and a-raw → {b, c} → d is a
diamond. ``run1`` trains v1 on e-train (train) and t-test (test); v1 is
evaluated on t-test with fairness slices and has a reproduction check. ``run2``
trains v2 on e-train. v1 is deployed to staging, v2 replaces it, v2 is rolled
back (restoring v1 in a new deployment row), and a production request for v2
stays pending.
"""

from datetime import UTC, datetime
from types import SimpleNamespace

from approvals import services as approvals_services
from approvals.models import ApprovalPolicy
from models_registry import services
from tests.approvals import scenarios
from tests.models_registry import factories

ROLLBACK_REASON = "Latency doubled after the release"


def low_risk_policies() -> None:
    ApprovalPolicy.objects.filter(risk_class="low").update(
        gate_items=["success_metrics_defined"],
        required_approvals=1,
        required_roles=[],
        requires_staged_rollout=False,
        big_change_requires_ab=False,
    )


def build(team, *, name="lineage-model") -> SimpleNamespace:
    low_risk_policies()
    cast = scenarios.Cast(team)
    author = cast.author
    snap = {}
    snap["z"] = factories.make_snapshot(author, team, name="z-landing")
    snap["a"] = factories.make_snapshot(author, team, name="a-raw", parents=[snap["z"]])
    snap["b"] = factories.make_snapshot(
        author, team, name="b-clean", parents=[snap["a"]]
    )
    snap["c"] = factories.make_snapshot(
        author, team, name="c-dedup", parents=[snap["a"]]
    )
    snap["d"] = factories.make_snapshot(
        author, team, name="d-joined", parents=[snap["b"], snap["c"]]
    )
    snap["e"] = factories.make_snapshot(
        author,
        team,
        name="e-train",
        parents=[snap["d"]],
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2023, 12, 31, tzinfo=UTC),
    )
    snap["t"] = factories.make_snapshot(
        author,
        team,
        name="t-test",
        start=datetime(2024, 1, 1, tzinfo=UTC),
        end=datetime(2024, 12, 31, tzinfo=UTC),
    )
    model = factories.make_model(
        author,
        team,
        name=name,
        risk_class="low",
        regulatory_tier="minimal",
    )
    run1 = factories.make_run(
        author, model, inputs=[(snap["e"], "train"), (snap["t"], "test")]
    )
    v1 = factories.make_version(author, model, run=run1, semantic_version="1.0.0")
    evaluation = services.evaluation_record(
        actor=author,
        version=v1,
        split="test",
        dataset=snap["t"],
        metrics={"auc": 0.81, "ks": 0.42},
        slices=[
            {
                "attribute": "sex",
                "group": "female",
                "size": 40,
                "metrics": {"auc": 0.8},
            },
            {"attribute": "sex", "group": "male", "size": 60, "metrics": {"auc": 0.82}},
        ],
    )
    check = services.reproduction_check_record(
        actor=author, version=v1, artifact_sha256=v1.artifact.sha256
    )
    run2 = factories.make_run(author, model, inputs=[(snap["e"], "train")])
    v2 = factories.make_version(author, model, run=run2, semantic_version="1.1.0")
    first = scenarios.deploy(cast, v1)
    second = scenarios.deploy(cast, v2)
    rolled_back, restored = approvals_services.deployment_rollback(
        actor=cast.requester, deployment_id=second.pk, reason=ROLLBACK_REASON
    )
    pending = scenarios.request(cast, v2, env="production")
    first.refresh_from_db()
    return SimpleNamespace(
        cast=cast,
        team=team,
        model=model,
        snap=snap,
        run1=run1,
        run2=run2,
        v1=v1,
        v2=v2,
        evaluation=evaluation,
        check=check,
        first=first,
        second=rolled_back,
        restored=restored,
        pending=pending,
    )


def chain(author, team, *, depth: int, name: str):
    """A model whose training snapshot has ``depth`` ancestors in a line."""
    parent = None
    for step in range(depth + 1):
        parent = factories.make_snapshot(
            author,
            team,
            name=f"{name}-step-{step}",
            parents=[parent] if parent is not None else [],
        )
    model = factories.make_model(author, team, name=name, risk_class="low")
    run = factories.make_run(author, model, inputs=[(parent, "train")])
    version = factories.make_version(author, model, run=run)
    return model, version, parent
