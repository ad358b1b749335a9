"""Demo requests and deployments for ``manage.py seed_demo``, through the services.

Shows every state: executed deployments (staging, a production canary promoted to
full), a pending production request waiting for a reviewer and a risk officer, a
rejected request, and a rolled-back deployment. Runs once: skipped when the demo
models already have requests.
"""

from datetime import date

from django.contrib.auth import get_user_model

from approvals import services
from approvals.models import DeploymentRequest, Environment
from kernel.errors import ServiceError
from models_registry.demo_llm_evals import PROMPT, seed_llm_evaluations_demo
from models_registry.models import ModelVersion


def _decide(person, request, outcome="approve", comment=""):
    return services.decision_record(
        actor=person, request_id=request.pk, outcome=outcome, comment=comment
    )


SUMMARY = [
    "  approvals: credit-scoring live in production (v1), v3 pending review "
    "(rey and rio), v2 rejected; home-feed-ranker v2 rolled back to v1",
]


def seed_approvals_demo() -> list[str]:
    return _seed_models_demo() + seed_prompt_approvals_demo()


def seed_prompt_approvals_demo() -> list[str]:
    """support-assistant: its evaluations imported, v1 live in production
    (staging, a production canary, promoted, each approved by rey and rio),
    v3 waiting for approval in staging with a failing safety gate. Skipped
    when the prompt is not in the demo or already has requests."""
    lines = seed_llm_evaluations_demo()
    versions = {
        v.version: v
        for v in ModelVersion.objects.filter(model__name=PROMPT).select_related("model")
    }
    if 1 not in versions or 3 not in versions:
        return lines
    if DeploymentRequest.objects.filter(version__model__name=PROMPT).exists():
        return [*lines, PROMPT_SUMMARY]
    users = {user.username: user for user in get_user_model().objects.all()}
    dana, rey, rio = (users[name] for name in ("dana", "rey", "rio"))
    staging = Environment.objects.get(name="staging")
    production = Environment.objects.get(name="production")

    def submit(version, environment, strategy, why, **extra):
        return services.deployment_request_submit(
            actor=dana,
            version=version,
            environment=environment,
            strategy=strategy,
            justification=why,
            **extra,
        )

    try:
        _decide(rey, submit(versions[1], staging, "full", "First assistant prompt."))
        canary = submit(
            versions[1], production, "canary", "Canary at 5%.", traffic_percent=5
        )
        _decide(rey, canary)
        _decide(rio, canary)
        promote = submit(
            versions[1], production, "full", "Canary answers well.", kind="promote"
        )
        _decide(rey, promote)
        _decide(rio, promote)
    except ServiceError as error:
        return [*lines, f"  prompt approvals: v1 not deployed ({error.message})"]
    submit(versions[3], staging, "full", "Warmer tone, shorter answers.")
    return [*lines, PROMPT_SUMMARY]


PROMPT_SUMMARY = (
    f"  prompt approvals: {PROMPT} v1 live in production, v3 pending in staging "
    "with a failing safety gate"
)


def _seed_models_demo() -> list[str]:
    if DeploymentRequest.objects.filter(
        version__model__name__in=["credit-scoring", "home-feed-ranker"]
    ).exists():
        return SUMMARY
    users = {user.username: user for user in get_user_model().objects.all()}
    dana, sam, rey, rio, val = (
        users[name] for name in ("dana", "sam", "rey", "rio", "val")
    )
    staging = Environment.objects.get(name="staging")
    production = Environment.objects.get(name="production")
    credit = {
        v.version: v for v in ModelVersion.objects.filter(model__name="credit-scoring")
    }
    ranker = {
        v.version: v
        for v in ModelVersion.objects.filter(model__name="home-feed-ranker")
    }

    def submit(actor, version, environment, strategy, why, **extra):
        return services.deployment_request_submit(
            actor=actor,
            version=version,
            environment=environment,
            strategy=strategy,
            justification=why,
            **extra,
        )

    # credit-scoring v1: staging, then a production canary promoted to full.
    services.validation_report_record(
        actor=val,
        version=credit[1],
        outcome="passed",
        summary="Replicated the AUC on 2024 data; challenged the reject inference.",
    )
    _decide(rey, submit(dana, credit[1], staging, "full", "First release to staging."))
    canary = submit(
        dana, credit[1], production, "canary", "Canary at 10%.", traffic_percent=10
    )
    _decide(rey, canary)
    _decide(rio, canary)
    promote = submit(
        dana,
        credit[1],
        production,
        "full",
        "Canary healthy for 2 weeks.",
        kind="promote",
    )
    _decide(rey, promote)
    _decide(rio, promote)
    # v2 failed the fairness review.
    _decide(
        rey,
        submit(dana, credit[2], staging, "full", "Higher AUC."),
        outcome="reject",
        comment="AUC gap between women and men is 0.08: above the 0.05 limit.",
    )
    # v3: in staging; its production canary waits for a reviewer and a risk officer.
    _decide(rey, submit(dana, credit[3], staging, "full", "Release 2.0 to staging."))
    services.validation_report_record(
        actor=val,
        version=credit[3],
        outcome="passed_with_findings",
        summary="Sound; thin-file applicants need monitoring.",
        findings=[
            {
                "severity": "medium",
                "title": "Calibration drifts for thin-file applicants",
                "description": "Default rate off by 2 points for files under 6 months.",
                "owner": "dana",
                "due_date": date(2027, 3, 31),
            }
        ],
    )
    submit(
        dana,
        credit[3],
        production,
        "ab",
        "Release 2.0: A/B against 1.0.",
        traffic_percent=20,
    )

    # home-feed-ranker: v1 then v2 in staging, v2 rolled back.
    _decide(rey, submit(sam, ranker[1], staging, "full", "First ranker."))
    _, deployment = _decide(
        rey, submit(sam, ranker[2], staging, "full", "Bigger embeddings.")
    )
    services.deployment_rollback(
        actor=sam,
        deployment_id=deployment.pk,
        reason="Click-through fell 8% in the first hour.",
    )
    return SUMMARY
