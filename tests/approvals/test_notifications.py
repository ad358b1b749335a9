"""Who is told what, and when: webhooks and emails for requests, decisions,
deployments and rollbacks. Rows are built directly (tests/approvals/factories.py);
emails land in Django's locmem outbox; webhooks reach a real loopback receiver."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from approvals import notifications
from approvals.models import (
    DeliveryStatus,
    DeploymentSource,
    DeploymentStatus,
    RequestStatus,
    WebhookDelivery,
)
from kernel import roles
from models_registry import access
from models_registry import services as registry
from tests.approvals import factories
from tests.approvals.webhook_receiver import WebhookReceiver
from tests.conftest import make_user
from tests.models_registry import factories as registry_factories

pytestmark = pytest.mark.django_db

BASE = "https://gatehouse.example.com"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.PORTAL_BASE_URL = BASE + "/"
    # Hashing a dozen passwords the production way takes seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.stop()


@pytest.fixture
def endpoint(receiver):
    return factories.make_endpoint(url=receiver.url)


@pytest.fixture
def people(team):
    """The requester (also a reviewer of the model), the version's author (also
    a reviewer), the reviewers who may decide, and some who may not."""

    def person(username, *role_names, **extra):
        extra.setdefault("email", f"{username}@example.com")
        return make_user(username, *role_names, **extra)

    return SimpleNamespace(
        admin=person("pat", roles.PLATFORM_ADMIN),
        requester=person("dana", roles.DATA_SCIENTIST, roles.REVIEWER, team=team),
        author=person("alex", roles.DATA_SCIENTIST, roles.REVIEWER, team=team),
        reviewer=person("rey", roles.REVIEWER),
        risk_officer=person("rio", roles.RISK_OFFICER),
        board_member=person("bea", roles.REVIEWER),
        validator=person("val", roles.VALIDATOR),
        unassigned=person("una", roles.REVIEWER),
        departed=person("ina", roles.REVIEWER, is_active=False),
        no_address=person("noe", roles.REVIEWER, email=""),
        ops=person("ops", roles.DATA_SCIENTIST),
    )


@pytest.fixture
def version(people, team):
    model = registry_factories.make_model(people.author, team, name="credit-scoring")
    for user in (
        people.requester,
        people.author,
        people.reviewer,
        people.risk_officer,
        people.validator,
        people.departed,
        people.no_address,
    ):
        registry.model_reviewer_assign(actor=people.admin, user=user, model=model)
    # A review permission held through a group, not directly.
    board = Group.objects.create(name="review-board")
    assign_perm(access.REVIEW, board, model)
    people.board_member.groups.add(board)
    return registry_factories.make_version(
        people.author, model, semantic_version="2.1.0"
    )


@pytest.fixture
def pending(version, people):
    return factories.make_request(version=version, requested_by=people.requester)


def _events():
    return [
        (delivery.event, json.loads(delivery.body)["data"])
        for delivery in WebhookDelivery.objects.order_by("pk")
    ]


def _mail(outbox):
    return sorted((message.to[0], message.subject) for message in outbox)


# --- request.submitted ------------------------------------------------------------


def test_submission_emails_everyone_who_may_decide_and_nobody_else(
    pending, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_request_submitted(pending)

    subject = (
        f"[Gatehouse] Review request #{pending.pk}: credit-scoring v1 to production"
    )
    assert _mail(mailoutbox) == [
        ("bea@example.com", subject),
        ("rey@example.com", subject),
        ("rio@example.com", subject),
    ]
    assert all(len(message.to) == 1 for message in mailoutbox)
    assert mailoutbox[0].body == "\n".join(
        [
            "dana requests deploy: credit-scoring v1 to production "
            "(canary, 10% of traffic).",
            "Model: credit-scoring (high risk), version 1 (2.1.0).",
            "Environment: production.",
            "Strategy: canary, 10% of traffic.",
            "",
            "Justification:",
            "Better AUC on 2024 data.",
            "",
            "Gates: 1 pass, 1 fail, 1 not applicable.",
            "  [pass] Test metrics meet the offline success metrics: auc 0.81 ≥ 0.75.",
            "  [FAIL] Independent validation passed, no open high-severity findings: "
            "No validation report by a validator independent of the version.",
            "  [n/a ] Deployed to the previous environment first: "
            "staging is the first environment.",
            "",
            f"Decide before {pending.expires_at:%Y-%m-%d %H:%M} UTC:",
            f"{BASE}/approvals/requests/{pending.pk}/",
        ]
    )


def test_submission_webhook_describes_the_request(
    pending, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_request_submitted(pending)

    [(event, data)] = _events()
    assert event == "request.submitted"
    assert data["request"] == {
        "id": pending.pk,
        "url": f"{BASE}/approvals/requests/{pending.pk}/",
        "model": "credit-scoring",
        "risk_class": "high",
        "version": 1,
        "semantic_version": "2.1.0",
        "environment": "production",
        "kind": "deploy",
        "strategy": "canary",
        "traffic_percent": 10,
        "status": "pending",
        "justification": "Better AUC on 2024 data.",
        "requested_by": "dana",
        "created_at": data["request"]["created_at"],
        "expires_at": data["request"]["expires_at"],
        "closed_at": None,
        "closing_comment": "",
        "gates": {
            "passed": 1,
            "failed": 1,
            "not_applicable": 1,
            "failing": ["independent_validation"],
        },
    }
    [received] = receiver.received
    assert received.headers["X-Gatehouse-Event"] == "request.submitted"
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED


def test_finding_the_reviewers_takes_the_same_queries_for_3_or_13(
    pending, people, endpoint, django_capture_on_commit_callbacks
):
    def measure():
        with (
            django_capture_on_commit_callbacks(execute=False) as callbacks,
            CaptureQueriesContext(connection) as queries,
        ):
            notifications.notify_request_submitted(pending)
        return len(queries), len(callbacks)

    few_queries, few_callbacks = measure()
    for number in range(10):
        extra = make_user(
            f"reviewer{number}", roles.REVIEWER, email=f"r{number}@example.com"
        )
        registry.model_reviewer_assign(
            actor=people.admin, user=extra, model=pending.version.model
        )
    many_queries, many_callbacks = measure()

    assert (few_callbacks, many_callbacks) == (1 + 3, 1 + 13)
    assert many_queries == few_queries
    # Three reads (request, endpoints, reviewers), two outbox writes, savepoints.
    assert few_queries == 9


def test_reviewer_emails_is_one_query(pending, django_assert_num_queries):
    with django_assert_num_queries(1):
        emails = notifications.reviewer_emails(pending)
    assert emails == ["rey@example.com", "rio@example.com", "bea@example.com"]


# --- request.decided ----------------------------------------------------------------


def test_a_decision_emails_the_requester_the_outcome_reviewer_role_and_comment(
    pending, people, mailoutbox, endpoint, django_capture_on_commit_callbacks
):
    pending.status = RequestStatus.REJECTED
    pending.save()
    decision = factories.make_decision(
        request=pending,
        reviewer=people.risk_officer,
        outcome="reject",
        role=roles.RISK_OFFICER,
        comment="The fairness gap by sex is too wide.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_decision_recorded(decision)

    [message] = mailoutbox
    assert message.to == ["dana@example.com"]
    assert message.subject == (
        f"[Gatehouse] Request #{pending.pk} rejected by rio: "
        "credit-scoring v1 to production"
    )
    assert message.body == "\n".join(
        [
            f"rio (Risk officer) rejected your request #{pending.pk}: "
            "credit-scoring v1 to production (canary, 10% of traffic).",
            "",
            "Comment: The fairness gap by sex is too wide.",
            "The request is now rejected.",
            "",
            f"{BASE}/approvals/requests/{pending.pk}/",
        ]
    )
    [(event, data)] = _events()
    assert event == "request.decided"
    assert data["decision"] == {
        "id": decision.pk,
        "outcome": "reject",
        "reviewer": "rio",
        "role": "risk_officer",
        "comment": "The fairness gap by sex is too wide.",
        "created_at": data["decision"]["created_at"],
    }
    assert data["request"]["status"] == "rejected"


def test_an_approval_without_comment_says_so(
    pending, people, mailoutbox, django_capture_on_commit_callbacks
):
    decision = factories.make_decision(request=pending, reviewer=people.reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_decision_recorded(decision)

    [message] = mailoutbox
    assert message.to == ["dana@example.com"]
    assert message.body.splitlines()[:4] == [
        f"rey (Reviewer) approved your request #{pending.pk}: "
        "credit-scoring v1 to production (canary, 10% of traffic).",
        "",
        "No comment.",
        "The request is now pending.",
    ]


# --- request.<closed> ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "comment", "first_line"),
    [
        ("cancelled", "Superseded by v2.", "was cancelled: Superseded by v2."),
        ("expired", "Approval window ended.", "was expired: Approval window ended."),
    ],
)
def test_closing_a_request_tells_the_requester(
    version,
    people,
    mailoutbox,
    endpoint,
    django_capture_on_commit_callbacks,
    status,
    comment,
    first_line,
):
    request = factories.make_request(
        version=version,
        requested_by=people.requester,
        status=status,
        closing_comment=comment,
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_request_closed(request)

    [message] = mailoutbox
    assert message.to == ["dana@example.com"]
    assert message.subject == (
        f"[Gatehouse] Request #{request.pk} {status}: credit-scoring v1 to production"
    )
    assert message.body.splitlines()[0] == (
        f"Your request #{request.pk} (credit-scoring v1 to production) {first_line}"
    )
    [(event, data)] = _events()
    assert (event, data["request"]["status"], data["request"]["closing_comment"]) == (
        f"request.{status}",
        status,
        comment,
    )


def test_a_rejection_sends_its_webhook_but_leaves_the_email_to_the_decision(
    version, people, mailoutbox, endpoint, django_capture_on_commit_callbacks
):
    request = factories.make_request(
        version=version,
        requested_by=people.requester,
        status=RequestStatus.REJECTED,
        closing_comment="Too risky.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_request_closed(request)

    assert mailoutbox == []
    assert [event for event, _ in _events()] == ["request.rejected"]


def test_closing_notice_refuses_a_request_that_is_not_closed(
    pending, mailoutbox, endpoint, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValueError, match="is pending, not closed"),
    ):
        notifications.notify_request_closed(pending)
    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0
    assert mailoutbox == []


# --- deployment.executed --------------------------------------------------------------


def test_an_executed_deployment_is_announced_with_its_artifact_and_target(
    version, people, mailoutbox, endpoint, django_capture_on_commit_callbacks
):
    previous = factories.make_deployment(version=version, deployed_by=people.reviewer)
    request = factories.make_request(
        version=version, requested_by=people.requester, status=RequestStatus.EXECUTED
    )
    deployment = factories.make_deployment(
        version=version,
        deployed_by=people.risk_officer,
        strategy="canary",
        traffic_percent=10,
        request=request,
        rollback_target=previous,
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_deployment_executed(deployment)

    [(event, data)] = _events()
    assert event == "deployment.executed"
    assert data["deployment"] == {
        "id": deployment.pk,
        "url": f"{BASE}/approvals/deployments/{deployment.pk}/",
        "model": "credit-scoring",
        "version": 1,
        "semantic_version": "2.1.0",
        "environment": "production",
        "artifact": {
            "id": version.artifact_id,
            "uri": version.artifact.uri,
            "sha256": version.artifact.sha256,
        },
        "strategy": "canary",
        "traffic_percent": 10,
        "status": "active",
        "source": "request",
        "request_id": request.pk,
        "rollback_target_id": previous.pk,
        "restores_id": None,
        "deployed_by": "rio",
        "started_at": data["deployment"]["started_at"],
        "ended_at": None,
        "end_reason": "",
    }
    [message] = mailoutbox
    assert message.to == ["dana@example.com"]
    assert message.subject == "[Gatehouse] Deployed: credit-scoring v1 in production"
    assert message.body == "\n".join(
        [
            "credit-scoring v1 in production is live (canary, 10% of traffic), "
            f"as deployment #{deployment.pk} from your request #{request.pk}.",
            f"Artifact: {version.artifact.uri} (sha256 {version.artifact.sha256}).",
            f"Rollback target: deployment #{previous.pk}.",
            "",
            f"{BASE}/approvals/deployments/{deployment.pk}/",
        ]
    )


# --- deployment.rolled_back -----------------------------------------------------------


@pytest.fixture
def rollback(version, people, team):
    """v1 was live; ops asked for v2, which replaced it; rio rolled v2 back and
    v1 was restored."""
    first = factories.make_deployment(version=version, deployed_by=people.reviewer)
    v2 = registry_factories.make_version(people.author, version.model)
    factories.end_deployment(
        first, status=DeploymentStatus.SUPERSEDED, by=people.reviewer
    )
    request = factories.make_request(
        version=v2, requested_by=people.ops, status=RequestStatus.EXECUTED
    )
    second = factories.make_deployment(
        version=v2,
        deployed_by=people.reviewer,
        request=request,
        rollback_target=first,
    )
    factories.rolled_back(second, by=people.risk_officer, reason="Latency doubled.")
    restored = factories.make_deployment(
        version=version,
        deployed_by=people.risk_officer,
        source=DeploymentSource.ROLLBACK,
        restores=first,
    )
    # Another team member is mailed; one who has left and one without an
    # address are not.
    make_user("ivy", roles.DATA_SCIENTIST, team=team, email="ivy@example.com")
    make_user("ivy2", team=team, is_active=False, email="ivy2@example.com")
    make_user("nel", team=team, email="")
    return SimpleNamespace(first=first, second=second, restored=restored, v2=v2)


def test_a_rollback_tells_the_team_and_the_requester(
    rollback, mailoutbox, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_deployment_rolled_back(rollback.second, rollback.restored)

    subject = "[Gatehouse] Rolled back: credit-scoring in production (v2)"
    assert _mail(mailoutbox) == [
        ("alex@example.com", subject),
        ("dana@example.com", subject),
        ("ivy@example.com", subject),
        ("ops@example.com", subject),
    ]
    restored = rollback.restored
    assert mailoutbox[0].body == "\n".join(
        [
            f"rio rolled back deployment #{rollback.second.pk} of credit-scoring in "
            f"production (v2, artifact sha256 {rollback.v2.artifact.sha256}).",
            "Reason: Latency doubled.",
            f"Live again: v1 as deployment #{restored.pk}, artifact "
            f"{restored.artifact.uri} (sha256 {restored.artifact_sha256}), "
            "full, 100% of traffic.",
            "",
            f"{BASE}/approvals/deployments/{rollback.second.pk}/",
        ]
    )
    [(event, data)] = _events()
    assert event == "deployment.rolled_back"
    assert (data["reason"], data["rolled_back_by"]) == ("Latency doubled.", "rio")
    assert (data["rolled_back"]["id"], data["rolled_back"]["status"]) == (
        rollback.second.pk,
        "rolled_back",
    )
    assert data["rolled_back"]["rollback_target_id"] == rollback.first.pk
    assert (
        data["restored"]["id"],
        data["restored"]["source"],
        data["restored"]["restores_id"],
    ) == (restored.pk, "rollback", rollback.first.pk)


def test_a_rollback_to_a_target_still_live_restores_nothing(
    version, people, mailoutbox, endpoint, django_capture_on_commit_callbacks
):
    full = factories.make_deployment(version=version, deployed_by=people.reviewer)
    canary = factories.make_deployment(
        version=registry_factories.make_version(people.author, version.model),
        deployed_by=people.reviewer,
        strategy="canary",
        traffic_percent=5,
        rollback_target=full,
    )
    factories.rolled_back(canary, by=people.risk_officer, reason="Error rate up.")
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify_deployment_rolled_back(canary, None)

    [(_, data)] = _events()
    assert data["restored"] is None
    # No request behind the canary: whoever deployed it is told, with the team.
    assert sorted(message.to[0] for message in mailoutbox) == [
        "alex@example.com",
        "dana@example.com",
        "rey@example.com",
    ]
    assert mailoutbox[0].body.splitlines()[2] == (
        f"Its traffic returns to deployment #{full.pk}, which was still live."
    )


# --- Commit and rollback of the caller's transaction ---------------------------------


def test_nothing_is_sent_before_the_callers_transaction_commits(
    pending, people, receiver, endpoint, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            notifications.notify_request_submitted(pending)
            notifications.notify_decision_recorded(
                factories.make_decision(request=pending, reviewer=people.reviewer)
            )
        assert WebhookDelivery.objects.count() == 2
        assert mailoutbox == []
        assert receiver.received == []
    assert len(mailoutbox) == 3 + 1
    assert sorted(r.headers["X-Gatehouse-Event"] for r in receiver.received) == [
        "request.decided",
        "request.submitted",
    ]


def test_nothing_is_written_or_sent_when_the_callers_transaction_rolls_back(
    pending, receiver, endpoint, mailoutbox, django_capture_on_commit_callbacks
):
    class GateFailedError(Exception):
        pass

    def service_that_fails_after_notifying():
        with transaction.atomic():
            notifications.notify_request_submitted(pending)
            raise GateFailedError

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(GateFailedError),
    ):
        service_that_fails_after_notifying()

    assert callbacks == []
    assert WebhookDelivery.objects.count() == 0
    assert mailoutbox == []
    assert receiver.received == []


def test_every_event_is_documented():
    documented = (DOCS.read_text().split("## Events", 1)[1]).split("##", 1)[0]
    for event in notifications.EVENTS:
        assert f"| `{event}` |" in documented, event
