import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from approvals import services
from approvals.errors import (
    AlreadyDecided,
    ApprovalInvalid,
    ApprovalPermissionDenied,
    GateFailed,
    RequestClosed,
    SeparationOfDuties,
)
from approvals.models import (
    ApprovalPolicy,
    Decision,
    Deployment,
    DeploymentRequest,
    FindingStatus,
    RequestStatus,
)
from audit.models import AuditEvent
from kernel import roles
from models_registry import services as registry
from tests.approvals import scenarios
from tests.conftest import make_user
from tests.models_registry import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(team):
    return scenarios.Cast(team)


def _open_gates(risk_class):
    """Isolate the approval rules: no gates, no staged rollout, no A/B rule."""
    ApprovalPolicy.objects.filter(risk_class=risk_class).update(
        gate_items=[], requires_staged_rollout=False, big_change_requires_ab=False
    )


POLICIES = [
    ("low", "staging"),
    ("low", "production"),
    ("medium", "staging"),
    ("medium", "production"),
    ("high", "staging"),
    ("high", "production"),
    ("critical", "staging"),
    ("critical", "production"),
]


@pytest.mark.parametrize(("risk_class", "env"), POLICIES)
def test_policy_matrix_needs_its_approvals_and_roles(cast, risk_class, env):
    _open_gates(risk_class)
    model, version = scenarios.passing_model(cast, risk_class=risk_class)
    if env == "production":
        scenarios.deploy(cast, version, env="staging")
    policy = ApprovalPolicy.objects.get(risk_class=risk_class, environment__name=env)
    submitted = scenarios.request(cast, version, env=env)
    reviewers = [cast.reviewer, cast.reviewer2]
    reviewers += [make_user(f"extra{n}", roles.REVIEWER) for n in range(2)]
    for person in reviewers[2:]:
        registry.model_reviewer_assign(actor=cast.admin, user=person, model=model)
    needed = policy.required_approvals
    # Reviewers alone, as many as the count requires: enough only when no role
    # (risk officer) is required.
    deployment = None
    for person in reviewers[:needed]:
        _, deployment = scenarios.approve(person, submitted)
    if "risk_officer" in policy.required_roles:
        assert deployment is None
        submitted.refresh_from_db()
        assert submitted.status == RequestStatus.PENDING
        _, deployment = scenarios.approve(cast.risk_officer, submitted)
    assert deployment is not None
    submitted.refresh_from_db()
    assert submitted.status == RequestStatus.EXECUTED
    assert (
        Decision.objects.filter(request=submitted, outcome="approve").count() >= needed
    )


def test_submission_stores_policy_and_gates(cast):
    _, version = scenarios.passing_model(cast)
    submitted = scenarios.request(
        cast, version, env="production", strategy="canary", traffic_percent=5
    )
    assert submitted.policy_snapshot["required_roles"] == ["risk_officer"]
    assert submitted.policy_snapshot["required_approvals"] == 2
    gates = {gate["id"]: gate for gate in submitted.gate_results}
    assert gates["offline_metrics_met"]["status"] == "pass"
    assert gates["independent_validation"]["status"] == "fail"
    assert (
        gates["promotion_order"]["reason"] == "v1 has never been deployed to Staging."
    )
    event = AuditEvent.objects.get(action="request.submitted")
    assert event.payload["failing_gates"] == [
        "independent_validation",
        "promotion_order",
    ]
    assert event.scope == "credit-scoring"


def test_failing_gate_blocks_the_final_approval_with_its_reason(cast):
    _, version = scenarios.passing_model(cast)
    scenarios.deploy(cast, version, env="staging")
    submitted = scenarios.request(
        cast, version, env="production", strategy="canary", traffic_percent=5
    )
    scenarios.approve(cast.reviewer, submitted)
    with pytest.raises(GateFailed) as caught:
        scenarios.approve(cast.risk_officer, submitted)
    assert "Independent validation passed" in caught.value.message
    assert caught.value.fields == {"gates": ["independent_validation"]}
    # the blocked approval changed nothing
    assert Decision.objects.filter(request=submitted).count() == 1
    submitted.refresh_from_db()
    assert submitted.status == RequestStatus.PENDING
    assert not Deployment.objects.filter(environment__name="production").exists()


def test_open_high_finding_blocks_until_resolved(cast):
    _, version = scenarios.passing_model(cast)
    scenarios.deploy(cast, version, env="staging")
    report = scenarios.validate(
        cast,
        version,
        outcome="passed_with_findings",
        findings=[
            {"severity": "high", "title": "Unstable on thin files", "owner": "author"}
        ],
    )
    submitted = scenarios.request(
        cast, version, env="production", strategy="canary", traffic_percent=5
    )
    scenarios.approve(cast.reviewer, submitted)
    with pytest.raises(GateFailed, match="Open findings: high: Unstable on thin files"):
        scenarios.approve(cast.risk_officer, submitted)
    finding = report.findings.get()
    services.finding_status_change(
        actor=cast.author, finding_id=finding.pk, status="resolved"
    )
    _, deployment = scenarios.approve(cast.risk_officer, submitted)
    assert deployment.strategy == "canary"
    assert deployment.traffic_percent == 5
    submitted.refresh_from_db()
    assert submitted.final_gate_results[-4]["id"] == "independent_validation"
    assert report.findings.get().status == FindingStatus.RESOLVED


def test_validator_cannot_validate_their_own_version(cast, team):
    builder = make_user("builder", roles.DATA_SCIENTIST, roles.VALIDATOR, team=team)
    model = factories.make_model(builder, team, name="self-made")
    version = factories.make_version(builder, model)
    with pytest.raises(SeparationOfDuties):
        services.validation_report_record(
            actor=builder, version=version, outcome="passed", summary="Looks great."
        )
    assert not version.validation_reports.exists()


def test_nobody_approves_their_own_request_or_version(cast, team):
    both = make_user("both", roles.DATA_SCIENTIST, roles.REVIEWER, team=team)
    model = factories.make_model(both, team, name="mixed", risk_class="low")
    registry.model_reviewer_assign(actor=cast.admin, user=both, model=model)
    version = factories.make_version(both, model)
    # the author may not approve a request someone else made
    submitted = scenarios.request(cast, version)
    with pytest.raises(SeparationOfDuties, match="version they registered"):
        scenarios.approve(both, submitted)
    # the requester may not approve their own request
    other_version = factories.make_version(cast.author, model)
    own = services.deployment_request_submit(
        actor=both,
        version=other_version,
        environment=scenarios.environment("staging"),
        strategy="full",
        justification="mine",
    )
    with pytest.raises(SeparationOfDuties, match="their own request"):
        scenarios.approve(both, own)
    assert not Decision.objects.exists()


def test_the_training_runs_recorder_may_not_decide_its_version(cast, team):
    """One definition of a version's authors (#14 item 1): registrant and the
    recorder of its training run, for decisions, the queue and the page."""
    from approvals import access, selectors

    recorder = make_user("runner", roles.DATA_SCIENTIST, roles.REVIEWER, team=team)
    model = factories.make_model(cast.author, team, name="run-made", risk_class="low")
    registry.model_reviewer_assign(actor=cast.admin, user=recorder, model=model)
    run = factories.make_run(recorder, model)
    version = factories.make_version(cast.author, model, run=run)
    submitted = scenarios.request(cast, version)
    events = AuditEvent.objects.count()
    with pytest.raises(SeparationOfDuties, match="recorded its training run"):
        scenarios.approve(recorder, submitted)
    assert (Decision.objects.count(), AuditEvent.objects.count()) == (0, events)
    assert submitted not in selectors.request_queue(actor=recorder)
    assert not access.may_decide(recorder, submitted, decisions=[])
    assert submitted in selectors.request_queue(actor=cast.reviewer)


def test_each_person_counts_once(cast):
    _, version = scenarios.passing_model(cast)
    submitted = scenarios.request(cast, version, env="staging")
    scenarios.set_policy("high", "staging", required_approvals=2)
    submitted.policy_snapshot["required_approvals"] = 2
    DeploymentRequest.objects.filter(pk=submitted.pk).update(
        policy_snapshot=submitted.policy_snapshot
    )
    scenarios.approve(cast.reviewer, submitted)
    with pytest.raises(AlreadyDecided):
        scenarios.approve(cast.reviewer, submitted)
    assert Decision.objects.filter(request=submitted).count() == 1


@pytest.mark.parametrize("persona", ["requester", "validator", "author"])
def test_people_without_an_approving_role_cannot_decide(cast, persona):
    _, version = scenarios.passing_model(cast)
    submitted = scenarios.request(cast, version)
    with pytest.raises(ApprovalPermissionDenied):
        scenarios.approve(getattr(cast, persona), submitted)
    assert not Decision.objects.exists()


def test_unassigned_reviewer_cannot_see_the_request(cast, reviewer):
    from approvals.errors import RequestNotFound

    _, version = scenarios.passing_model(cast)
    submitted = scenarios.request(cast, version)
    with pytest.raises(RequestNotFound):
        scenarios.approve(reviewer, submitted)


def test_role_is_checked_when_the_decision_is_made(cast):
    from django.contrib.auth.models import Group

    _, version = scenarios.passing_model(cast)
    submitted = scenarios.request(cast, version)
    cast.reviewer.groups.remove(Group.objects.get(name=roles.REVIEWER))
    from django.contrib.auth import get_user_model

    demoted = get_user_model().objects.get(pk=cast.reviewer.pk)
    with pytest.raises(ApprovalPermissionDenied):
        scenarios.approve(demoted, submitted)


def test_reject_needs_a_comment_and_closes_the_request(cast):
    _, version = scenarios.passing_model(cast)
    submitted = scenarios.request(cast, version)
    with pytest.raises(ApprovalInvalid) as caught:
        services.decision_record(
            actor=cast.reviewer, request_id=submitted.pk, outcome="reject"
        )
    assert "comment" in caught.value.fields
    services.decision_record(
        actor=cast.reviewer,
        request_id=submitted.pk,
        outcome="reject",
        comment="AUC too low",
    )
    submitted.refresh_from_db()
    assert (submitted.status, submitted.closing_comment) == ("rejected", "AUC too low")
    with pytest.raises(RequestClosed):
        scenarios.approve(cast.reviewer2, submitted)
    actions = list(
        AuditEvent.objects.filter(scope="credit-scoring").values_list(
            "action", flat=True
        )
    )
    assert actions[-2:] == ["request.decided", "request.rejected"]


def test_request_changes_keeps_the_request_pending(cast):
    _, version = scenarios.passing_model(cast)
    submitted = scenarios.request(cast, version)
    services.decision_record(
        actor=cast.reviewer,
        request_id=submitted.pk,
        outcome="request_changes",
        comment="Add the 2024 Q4 data.",
    )
    submitted.refresh_from_db()
    assert submitted.status == RequestStatus.PENDING


def test_requests_expire(cast):
    _, version = scenarios.passing_model(cast)
    submitted = scenarios.request(cast, version)
    later = submitted.expires_at + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        with pytest.raises(RequestClosed, match="expired"):
            scenarios.approve(cast.reviewer, submitted)
        assert services.deployment_requests_expire() == 1
        assert services.deployment_requests_expire() == 0
    submitted.refresh_from_db()
    assert submitted.status == RequestStatus.EXPIRED
    assert (
        AuditEvent.objects.filter(action="request.expired", actor__isnull=True).count()
        == 1
    )


def test_cancel_by_the_requester_only(cast):
    _, version = scenarios.passing_model(cast)
    submitted = scenarios.request(cast, version)
    with pytest.raises(ApprovalPermissionDenied):
        services.deployment_request_cancel(actor=cast.author, request_id=submitted.pk)
    services.deployment_request_cancel(
        actor=cast.requester, request_id=submitted.pk, reason="typo"
    )
    submitted.refresh_from_db()
    assert submitted.status == RequestStatus.CANCELLED


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"strategy": "big-bang"}, "strategy"),
        ({"strategy": "canary", "traffic_percent": 80}, "traffic_percent"),
        ({"strategy": "ab", "traffic_percent": 100}, "traffic_percent"),
        ({"strategy": "full", "traffic_percent": 50}, "traffic_percent"),
        ({"justification": "   "}, "justification"),
        (
            {"justification": "token ghp_abcdefghijklmnopqrstuvwxyz0123"},
            "justification",
        ),
        ({"kind": "promote", "strategy": "canary", "traffic_percent": 10}, "strategy"),
        ({"kind": "yolo"}, "kind"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(cast, values, field):
    _, version = scenarios.passing_model(cast)
    before = AuditEvent.objects.count()
    with pytest.raises(ApprovalInvalid) as caught:
        scenarios.request(cast, version, **values)
    assert field in caught.value.fields
    assert not DeploymentRequest.objects.exists()
    assert AuditEvent.objects.count() == before


def test_one_pending_request_per_version_and_environment(cast):
    _, version = scenarios.passing_model(cast)
    scenarios.request(cast, version)
    with pytest.raises(ApprovalInvalid, match="not submitted") as caught:
        scenarios.request(cast, version)
    assert "still pending" in caught.value.fields["version"][0]


def test_only_the_owning_team_requests(cast, other_team):
    other = make_user("stranger", roles.DATA_SCIENTIST, team=other_team)
    _, version = scenarios.passing_model(cast)
    from models_registry.errors import ModelNotFound

    with pytest.raises(ModelNotFound):
        services.deployment_request_submit(
            actor=other,
            version=version,
            environment=scenarios.environment("staging"),
            strategy="full",
            justification="x",
        )


def test_staged_rollout_and_promotion(cast):
    _, version = scenarios.passing_model(cast)
    scenarios.validate(cast, version)
    scenarios.deploy(cast, version, env="staging")
    full = scenarios.request(cast, version, env="production", strategy="full")
    gates = {gate["id"]: gate for gate in full.gate_results}
    assert gates["staged_rollout"]["status"] == "fail"
    services.deployment_request_cancel(actor=cast.requester, request_id=full.pk)
    promote = scenarios.request(
        cast, version, env="production", strategy="full", kind="promote"
    )
    scenarios.approve(cast.reviewer, promote)
    with pytest.raises(GateFailed, match="Promotion needs a live canary"):
        scenarios.approve(cast.risk_officer, promote)
    services.deployment_request_cancel(actor=cast.requester, request_id=promote.pk)
    canary = scenarios.deploy(
        cast, version, env="production", strategy="canary", traffic_percent=10
    )
    assert canary.rollback_target is None
    full = scenarios.deploy(
        cast, version, env="production", strategy="full", kind="promote"
    )
    canary.refresh_from_db()
    assert (canary.status, full.status, full.traffic_percent) == (
        "superseded",
        "active",
        100,
    )
    version.refresh_from_db()
    assert version.production_approved_at is not None
    assert version.is_card_frozen


def test_big_change_must_go_out_as_ab(cast):
    model, version = scenarios.passing_model(cast, risk_class="medium")
    ApprovalPolicy.objects.filter(risk_class="medium").update(
        gate_items=[], requires_staged_rollout=False, big_change_requires_ab=True
    )
    scenarios.deploy(cast, version, env="staging")
    worse = factories.make_version(cast.author, model, semantic_version="1.1.0")
    registry.evaluation_record(
        actor=cast.author,
        version=worse,
        split="test",
        dataset=version.evaluations.get().dataset,
        metrics={"auc": 0.79},
    )
    submitted = scenarios.request(cast, worse, env="staging")
    gate = next(g for g in submitted.gate_results if g["id"] == "big_change_ab")
    assert gate["status"] == "fail"
    assert (
        gate["reason"]
        == "Big change (auc 0.79 is worse than live 0.81): use an A/B test."
    )
    services.deployment_request_cancel(actor=cast.requester, request_id=submitted.pk)
    ab = scenarios.request(
        cast, worse, env="staging", strategy="ab", traffic_percent=20
    )
    gate = next(g for g in ab.gate_results if g["id"] == "big_change_ab")
    assert gate["status"] == "pass"


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_final_approvals_deploy_once(team):
    cast = scenarios.Cast(team)
    _open_gates("high")
    scenarios.set_policy("high", "staging", required_approvals=1)
    _, version = scenarios.passing_model(cast)
    submitted = scenarios.request(cast, version)
    barrier = threading.Barrier(2)
    outcomes = []

    def press_approve(person):
        try:
            barrier.wait()
            outcomes.append(scenarios.approve(person, submitted))
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=press_approve, args=(p,))
        for p in (cast.reviewer, cast.reviewer2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Deployment.objects.count() == 1
    assert sum(isinstance(outcome, tuple) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, RequestClosed) for outcome in outcomes) == 1
    assert AuditEvent.objects.filter(action="deployment.executed").count() == 1
