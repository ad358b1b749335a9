"""Approval scenarios built through the services (used by the service tests)."""

from datetime import UTC, datetime

from approvals import services
from approvals.models import ApprovalPolicy, Environment
from kernel import roles
from models_registry import services as registry
from tests.conftest import make_user
from tests.models_registry import factories


def environment(name: str) -> Environment:
    return Environment.objects.get(name=name)


def set_policy(risk_class: str, env: str, **values) -> ApprovalPolicy:
    policy = ApprovalPolicy.objects.get(risk_class=risk_class, environment__name=env)
    for field, value in values.items():
        setattr(policy, field, value)
    policy.save()
    return policy


class Cast:
    """The people of a scenario: a requester (data scientist of the team), the
    version's author (another team member), reviewers and risk officers
    assigned to the team, a validator, and a platform admin."""

    def __init__(self, team):
        self.team = team
        self.admin = make_user("admin", roles.PLATFORM_ADMIN, is_staff=True)
        self.author = make_user("author", roles.DATA_SCIENTIST, team=team)
        self.requester = make_user("requester", roles.DATA_SCIENTIST, team=team)
        self.reviewer = make_user("reviewer1", roles.REVIEWER)
        self.reviewer2 = make_user("reviewer2", roles.REVIEWER)
        self.risk_officer = make_user("risk1", roles.RISK_OFFICER)
        self.validator = make_user("validator1", roles.VALIDATOR)
        for person in (
            self.reviewer,
            self.reviewer2,
            self.risk_officer,
            self.validator,
        ):
            registry.model_reviewer_assign(actor=self.admin, user=person, team=team)


def passing_model(cast: Cast, *, risk_class="high", name="credit-scoring"):
    model = factories.make_model(
        cast.author, cast.team, name=name, risk_class=risk_class
    )
    version = factories.make_passing_version(cast.author, model)
    return model, version


def validate(cast: Cast, version, outcome="passed", findings=()):
    return services.validation_report_record(
        actor=cast.validator,
        version=version,
        outcome=outcome,
        summary="Challenged the model's assumptions; results replicate.",
        findings=list(findings),
    )


def request(cast: Cast, version, env="staging", strategy="full", **extra):
    return services.deployment_request_submit(
        actor=cast.requester,
        version=version,
        environment=environment(env),
        strategy=strategy,
        justification=extra.pop("justification", "Better AUC on 2024 data."),
        **extra,
    )


def approve(actor, request_, comment=""):
    return services.decision_record(
        actor=actor, request_id=request_.pk, outcome="approve", comment=comment
    )


def deploy(cast: Cast, version, env="staging", strategy="full", **extra):
    """Submit and approve with as many people as the policy needs."""
    submitted = request(cast, version, env=env, strategy=strategy, **extra)
    deployment = None
    for person in (cast.risk_officer, cast.reviewer, cast.reviewer2):
        _, deployment = approve(person, submitted)
        if deployment is not None:
            return deployment
    raise AssertionError("the policy was not satisfied by three approvals")


def at(year, month, day):
    return datetime(year, month, day, tzinfo=UTC)
