"""The API of deployment requests: submit, list, queue, detail, decisions,
cancellation, separation of duties and bad input."""

import pytest
from django.core import mail
from rest_framework.fields import DateTimeField

from approvals.api import examples
from approvals.models import ApprovalPolicy, Decision, Deployment, DeploymentRequest
from audit.models import AuditEvent
from kernel import roles
from models_registry import services as registry
from tests.approvals.conftest import (
    API,
    approvals_state,
    audit_actions,
    client_for,
    deploy,
    new_version,
    submit,
)
from tests.conftest import make_user
from tests.models_registry import factories

pytestmark = pytest.mark.django_db

REQUESTS = f"{API}requests/"


def iso(moment) -> str | None:
    return DateTimeField().to_representation(moment) if moment else None


def submit_body(**overrides) -> dict:
    body = {
        "model": "ranker",
        "version": 1,
        "environment": "staging",
        "strategy": "full",
        "justification": "Better recall on 2024 data.",
    }
    body.update(overrides)
    return body


def decide(world, persona, request_id, **body):
    return world.clients[persona].post(
        f"{REQUESTS}{request_id}/decisions", body, format="json"
    )


def evaluate(world, version, **metrics):
    snapshot = factories.make_snapshot(world.users.author, world.team)
    registry.evaluation_record(
        actor=world.users.author,
        version=version,
        split="test",
        dataset=snapshot,
        metrics=metrics,
    )


# --- Submit --------------------------------------------------------------------------


def test_submits_a_request_with_its_gates_and_policy(
    world, django_capture_on_commit_callbacks
):
    before = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = world.clients["requester"].post(
            REQUESTS, submit_body(), format="json"
        )
    assert response.status_code == 201, response.json()
    request = DeploymentRequest.objects.get()
    version = world.version
    assert response.json() == {
        "id": request.pk,
        "model": "ranker",
        "risk_class": "low",
        "version": {
            "id": version.pk,
            "number": 1,
            "semantic_version": "1.0.0",
            "artifact_sha256": version.artifact.sha256,
            "registered_by": "ava",
        },
        "environment": "staging",
        "kind": "deploy",
        "strategy": "full",
        "traffic_percent": 100,
        "justification": "Better recall on 2024 data.",
        "status": "pending",
        "requested_by": "dana",
        "created_at": iso(request.created_at),
        "expires_at": iso(request.expires_at),
        "closed_at": None,
        "closing_comment": "",
        "policy": {
            "id": request.policy_snapshot["id"],
            "risk_class": "low",
            "environment": "staging",
            "required_approvals": 1,
            "required_roles": [],
            "gate_items": ["success_metrics_defined", "artifact_pinned"],
            "requires_staged_rollout": False,
            "big_change_requires_ab": False,
            "approval_valid_days": 30,
            "prompt_gate_items": [
                "llm_eval_met",
                "llm_safety_eval",
                "prompt_eval_not_tuned",
            ],
            "llm_regression_tolerance": 0.02,
        },
        "gates": request.gate_results,
        "final_gates": [],
        "page_url": f"/approvals/requests/{request.pk}/",
    }
    assert [(gate["id"], gate["status"]) for gate in request.gate_results] == [
        ("success_metrics_defined", "pass"),
        ("artifact_pinned", "pass"),
        ("promotion_order", "not_applicable"),
        ("staged_rollout", "not_applicable"),
        ("big_change_ab", "not_applicable"),
    ]
    assert (request.requested_by, request.version) == (world.users.requester, version)
    assert (request.expires_at - request.created_at).days == 30
    assert audit_actions(before) == ["request.submitted"]
    # The reviewers who may decide it hear about it; not its author.
    assert sorted(message.to[0] for message in mail.outbox) == [
        "rey@example.com",
        "rio@example.com",
    ]


def test_submit_takes_the_default_traffic_share_of_a_canary(world):
    response = world.clients["requester"].post(
        REQUESTS, submit_body(strategy="canary"), format="json"
    )
    assert response.status_code == 201
    assert (response.json()["strategy"], response.json()["traffic_percent"]) == (
        "canary",
        10,
    )


def test_submit_without_a_policy_for_the_risk_class_is_a_409(world):
    ApprovalPolicy.objects.filter(
        risk_class=world.model.risk_class, environment__name="staging"
    ).delete()
    before = approvals_state()
    response = world.clients["requester"].post(REQUESTS, submit_body(), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "no_policy"
    assert response.json()["message"]
    assert approvals_state() == before


def test_submit_for_an_invisible_model_is_not_found(world):
    before = approvals_state()
    response = world.clients["stranger"].post(REQUESTS, submit_body(), format="json")
    assert response.status_code == 404
    assert response.json() == {
        "code": "model_not_found",
        "message": "No such model.",
        "fields": {},
    }
    assert approvals_state() == before


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"strategy": "everywhere"}, {
            "strategy": ['"everywhere" is not a valid choice.']
        }),
        ({"version": "1"}, {"version": ["Must be a whole number."]}),
        ({"version": 0}, {
            "version": ["Ensure this value is greater than or equal to 1."]
        }),
        ({"traffic_percent": 12.5}, {"traffic_percent": ["Must be a whole number."]}),
        ({"kind": "yolo"}, {"kind": ['"yolo" is not a valid choice.']}),
        ({"justification": 42}, {"justification": ["Must be text."]}),
        ({"model": "Not a slug!"}, {"model": [
            'Enter a valid "slug" consisting of letters, numbers, underscores or '
            "hyphens."
        ]}),
        ({"colour": "blue"}, {"colour": ["Unknown field."]}),
        # Rules the service answers, field by field.
        ({"strategy": "canary", "traffic_percent": 80}, {
            "traffic_percent": ["A canary takes 1 to 50 percent of traffic."]
        }),
        ({"strategy": "full", "traffic_percent": 50}, {
            "traffic_percent": ["A full deployment takes 100 percent."]
        }),
        ({"kind": "promote", "strategy": "canary"}, {
            "strategy": ["Promoting a canary means going to full traffic."]
        }),
        ({"justification": "  "}, {
            "justification": ["Say why this should be deployed."]
        }),
        ({"version": 7}, {"version": ["“ranker” has no version 7."]}),
        ({"environment": "moon"}, {"environment": ["No environment named “moon”."]}),
    ],
)  # fmt: skip
def test_submit_with_bad_input_answers_field_errors_and_changes_nothing(
    world, overrides, fields
):
    before = approvals_state()
    response = world.clients["requester"].post(
        REQUESTS, submit_body(**overrides), format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json() == {
        "code": "invalid",
        "message": "The request was not submitted.",
        "fields": fields,
    }
    assert approvals_state() == before


def test_submit_without_fields_names_each_missing_one(world):
    before = approvals_state()
    response = world.clients["requester"].post(REQUESTS, {}, format="json")
    assert response.status_code == 400
    assert sorted(response.json()["fields"]) == [
        "environment",
        "justification",
        "model",
        "strategy",
        "version",
    ]
    assert approvals_state() == before


def test_a_second_pending_request_for_the_same_target_is_refused(world):
    first = submit(world)
    before = approvals_state()
    response = world.clients["teammate"].post(REQUESTS, submit_body(), format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "version": [
            f"Request #{first.pk} for this version and environment is still pending."
        ]
    }
    assert approvals_state() == before


# --- List, queue, detail -------------------------------------------------------------


def test_lists_requests_newest_first_with_filters(world):
    older = submit(world)
    newer = submit(world, new_version(world), environment="staging")
    client = world.clients["reviewer"]
    response = client.get(REQUESTS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]
    assert set(body["results"][0]) == set(examples.REQUEST)
    filtered = client.get(REQUESTS, {"model": "ranker", "status": "pending"}).json()
    assert filtered["count"] == 2
    assert client.get(REQUESTS, {"environment": "production"}).json()["count"] == 0
    assert client.get(REQUESTS, {"model": "other"}).json()["count"] == 0


def test_list_filters_are_checked(world):
    response = world.clients["reviewer"].get(REQUESTS, {"status": "lost"})
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The query is invalid.",
        "fields": {"status": ['"lost" is not a valid choice.']},
    }


def test_the_queue_holds_what_i_may_decide(world):
    waiting = submit(world)
    own = submit(world, new_version(world), actor=world.users.author)
    response = world.clients["reviewer"].get(f"{REQUESTS}queue")
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["results"]] == [waiting.pk, own.pk]
    item = body["results"][0]
    assert set(item) == set(examples.QUEUE_ITEM)
    assert (item["approvals"], item["failing_gates"], item["risk_class"]) == (
        0,
        [],
        "low",
    )
    assert 0 <= item["age_seconds"] < 60
    # ava built the first version and asked for the second: neither is hers to
    # decide. Once rey has decided, the request leaves his queue.
    assert world.clients["author"].get(f"{REQUESTS}queue").json()["count"] == 0
    decide(world, "reviewer", own.pk, outcome="request_changes", comment="Add slices.")
    assert [
        item["id"]
        for item in world.clients["reviewer"].get(f"{REQUESTS}queue").json()["results"]
    ] == [waiting.pk]


@pytest.mark.parametrize(
    "persona", ["requester", "auditor", "platform_admin", "unassigned_reviewer"]
)
def test_the_queue_is_empty_for_those_who_may_not_decide(world, persona):
    submit(world)
    response = world.clients[persona].get(f"{REQUESTS}queue")
    assert (response.status_code, response.json()["results"]) == (200, [])


def test_detail_compares_metrics_with_the_live_version(world):
    evaluate(world, world.version, auc=0.80, ks=0.40)
    live = deploy(world)
    candidate = new_version(world)
    evaluate(world, candidate, auc=0.84, ks=0.38, brier=0.1)
    request = submit(world, candidate)
    decide(world, "risk_officer", request.pk, outcome="request_changes", comment="Why?")
    response = world.clients["reviewer"].get(f"{REQUESTS}{request.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(examples.REQUEST_DETAIL)
    assert body["request"]["id"] == request.pk
    assert body["live_deployment"] == {
        "id": live.pk,
        "version": 1,
        "artifact_sha256": world.version.artifact.sha256,
        "strategy": "full",
        "traffic_percent": 100,
        "status": "active",
    }
    assert body["metrics"] == [
        {
            "name": "auc",
            "candidate": 0.84,
            "live": 0.80,
            "delta": pytest.approx(0.04),
            "direction": "higher",
        },
        {
            "name": "brier",
            "candidate": 0.1,
            "live": None,
            "delta": None,
            "direction": None,
        },
        {
            "name": "ks",
            "candidate": 0.38,
            "live": 0.40,
            "delta": pytest.approx(-0.02),
            "direction": None,
        },
    ]  # fmt: skip
    decision = Decision.objects.get(request=request)
    assert body["decisions"] == [
        {
            "id": decision.pk,
            "request": request.pk,
            "reviewer": "rio",
            "outcome": "request_changes",
            "role": "risk_officer",
            "comment": "Why?",
            "created_at": iso(decision.created_at),
        }
    ]
    assert (body["approvals"], body["can_decide"], body["can_cancel"]) == (
        0,
        True,
        False,
    )
    assert body["validation_reports"] == []
    requester_view = world.clients["requester"].get(f"{REQUESTS}{request.pk}/").json()
    assert (requester_view["can_decide"], requester_view["can_cancel"]) == (False, True)


def test_detail_of_an_unknown_request_is_not_found(world):
    response = world.clients["auditor"].get(f"{REQUESTS}999999/")
    assert response.status_code == 404
    assert response.json()["code"] == "request_not_found"


# --- Decisions -----------------------------------------------------------------------


def test_the_final_approval_executes_and_says_so(
    world, django_capture_on_commit_callbacks
):
    request = submit(world)
    before = AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(
            world, "reviewer", request.pk, outcome="approve", comment="Ok"
        )
    assert response.status_code == 201, response.json()
    deployment = Deployment.objects.get()
    decision = Decision.objects.get()
    assert response.json() == {
        "decision": {
            "id": decision.pk,
            "request": request.pk,
            "reviewer": "rey",
            "outcome": "approve",
            "role": "reviewer",
            "comment": "Ok",
            "created_at": iso(decision.created_at),
        },
        "request_status": "executed",
        "executed": True,
        "deployment": deployment.pk,
    }
    assert set(response.json()) == set(examples.DECISION_RESULT)
    request.refresh_from_db()
    assert request.status == "executed"
    assert request.final_gate_results == request.gate_results
    assert (deployment.version, deployment.environment.name, deployment.status) == (
        world.version,
        "staging",
        "active",
    )
    assert audit_actions(before) == ["request.decided", "deployment.executed"]
    # The requester hears of the decision.
    assert "dana@example.com" in [message.to[0] for message in mail.outbox]


def test_an_approval_short_of_the_policy_does_not_execute(world):
    ApprovalPolicy.objects.filter(risk_class="low", environment__name="staging").update(
        required_approvals=2, required_roles=["risk_officer"]
    )
    request = submit(world)
    first = decide(world, "reviewer", request.pk, outcome="approve")
    assert first.status_code == 201
    assert (first.json()["executed"], first.json()["deployment"]) == (False, None)
    assert first.json()["request_status"] == "pending"
    second = decide(world, "risk_officer", request.pk, outcome="approve")
    assert second.status_code == 201
    assert second.json()["executed"] is True
    assert second.json()["decision"]["role"] == "risk_officer"
    assert second.json()["deployment"] == Deployment.objects.get().pk


def test_a_rejection_closes_the_request(world):
    request = submit(world)
    response = decide(world, "reviewer", request.pk, outcome="reject", comment="No.")
    assert response.status_code == 201
    assert (response.json()["request_status"], response.json()["executed"]) == (
        "rejected",
        False,
    )
    request.refresh_from_db()
    assert (request.status, request.closing_comment) == ("rejected", "No.")
    assert Deployment.objects.count() == 0


def test_deciding_twice_is_refused(world):
    request = submit(world)
    decide(world, "reviewer", request.pk, outcome="request_changes", comment="Slices?")
    before = approvals_state()
    response = decide(world, "reviewer", request.pk, outcome="approve")
    assert response.status_code == 409
    assert response.json()["code"] == "already_decided"
    assert approvals_state() == before


def test_a_decided_request_takes_no_more_decisions(world):
    request = submit(world)
    decide(world, "reviewer", request.pk, outcome="approve")
    before = approvals_state()
    response = decide(world, "risk_officer", request.pk, outcome="approve")
    assert response.status_code == 409
    assert response.json() == {
        "code": "request_closed",
        "message": f"Request #{request.pk} is executed: it takes no decision.",
        "fields": {},
    }
    assert approvals_state() == before


def test_a_failing_gate_blocks_the_final_approval_with_its_reason(world):
    request = submit(world, environment="production")
    gates = {gate["id"]: gate for gate in request.gate_results}
    assert gates["promotion_order"]["status"] == "fail"
    before = approvals_state()
    response = decide(world, "reviewer", request.pk, outcome="approve")
    assert response.status_code == 409
    assert response.json()["code"] == "gate_failed"
    assert "never been deployed to Staging" in response.json()["message"]
    assert "promotion_order" in response.json()["fields"]["gates"]
    assert approvals_state() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"outcome": ["This field is required."]}),
        ({"outcome": "maybe"}, {"outcome": ['"maybe" is not a valid choice.']}),
        ({"outcome": "approve", "comment": 7}, {"comment": ["Must be text."]}),
        ({"outcome": "reject"}, {
            "comment": ["Say why: a rejection or a change request needs a comment."]
        }),
        ({"outcome": "request_changes", "comment": "  "}, {
            "comment": ["Say why: a rejection or a change request needs a comment."]
        }),
        ({"outcome": "approve", "verdict": "yes"}, {"verdict": ["Unknown field."]}),
    ],
)  # fmt: skip
def test_decisions_with_bad_input_change_nothing(world, body, fields):
    request = submit(world)
    before = approvals_state()
    response = decide(world, "reviewer", request.pk, **body)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The decision was not recorded.",
        "fields": fields,
    }
    assert approvals_state() == before


# --- Separation of duties ------------------------------------------------------------


def test_the_author_of_the_version_cannot_approve(world):
    request = submit(world)  # dana asks; ava built the version and reviews the model
    before = approvals_state()
    response = decide(world, "author", request.pk, outcome="approve")
    assert response.status_code == 403
    assert response.json() == {
        "code": "separation_of_duties",
        "message": "Nobody decides a request for a version they registered.",
        "fields": {},
    }
    assert approvals_state() == before


def test_the_requester_cannot_approve(world):
    version = factories.make_version(world.users.requester, world.model)
    request = submit(world, version, actor=world.users.author)  # ava asks
    before = approvals_state()
    response = decide(world, "author", request.pk, outcome="approve")
    assert response.status_code == 403
    assert response.json() == {
        "code": "separation_of_duties",
        "message": "Nobody decides their own request.",
        "fields": {},
    }
    assert approvals_state() == before


def test_a_reviewer_who_is_also_the_requester_cannot_reject_either(world, team):

    both = make_user("bo", roles.DATA_SCIENTIST, roles.REVIEWER, team=team)
    registry.model_reviewer_assign(
        actor=world.users.platform_admin, user=both, model=world.model
    )
    request = submit(world, actor=both)

    client = client_for(both)
    before = approvals_state()
    response = client.post(
        f"{REQUESTS}{request.pk}/decisions",
        {"outcome": "reject", "comment": "Changed my mind."},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (
        403,
        "separation_of_duties",
    )
    assert approvals_state() == before


# --- Cancel --------------------------------------------------------------------------


def test_the_requester_cancels_a_pending_request(world):
    request = submit(world)
    before = AuditEvent.objects.count()
    response = world.clients["requester"].post(
        f"{REQUESTS}{request.pk}/cancel", {"reason": "Superseded by v2."}, format="json"
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert response.json()["status"] == "cancelled"
    assert response.json()["closing_comment"] == "Superseded by v2."
    assert response.json()["closed_at"] == iso(request.closed_at)
    assert (request.status, request.closing_comment) == (
        "cancelled",
        "Superseded by v2.",
    )
    assert audit_actions(before) == ["request.cancelled"]


def test_cancel_without_a_body_is_allowed(world):
    request = submit(world)
    response = world.clients["requester"].post(f"{REQUESTS}{request.pk}/cancel")
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")


def test_cancelling_a_closed_request_is_a_conflict(world):
    request = submit(world)
    decide(world, "reviewer", request.pk, outcome="approve")
    before = approvals_state()
    response = world.clients["requester"].post(f"{REQUESTS}{request.pk}/cancel")
    assert (response.status_code, response.json()["code"]) == (409, "request_closed")
    assert approvals_state() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"reason": ["a", "list"]}, {"reason": ["Must be text."]}),
        ({"why": "typo"}, {"why": ["Unknown field."]}),
    ],
)
def test_cancel_with_bad_input_changes_nothing(world, body, fields):
    request = submit(world)
    before = approvals_state()
    response = world.clients["requester"].post(
        f"{REQUESTS}{request.pk}/cancel", body, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The request was not cancelled.",
        "fields": fields,
    }
    assert approvals_state() == before


# --- Query counts --------------------------------------------------------------------


def _queries(client, url, django_assert_max_num_queries, bound):
    client.get(url)  # warm up: the token's last-used time is written once a minute
    with django_assert_max_num_queries(bound) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("url", "bound"),
    [(REQUESTS, 5), (f"{REQUESTS}queue", 4)],
)
def test_request_lists_take_a_fixed_number_of_queries(
    world, django_assert_max_num_queries, url, bound
):
    client = world.clients["reviewer"]
    submit(world)
    few = _queries(client, url, django_assert_max_num_queries, bound)
    for _ in range(4):
        request = submit(world, new_version(world))
        decide(
            world, "risk_officer", request.pk, outcome="request_changes", comment="?"
        )
    many = _queries(client, url, django_assert_max_num_queries, bound)
    assert few == many


def test_request_detail_takes_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    evaluate(world, world.version, auc=0.8)
    deploy(world)
    candidate = new_version(world)
    evaluate(world, candidate, auc=0.82)
    request = submit(world, candidate)
    url = f"{REQUESTS}{request.pk}/"
    client = world.clients["reviewer"]
    few = _queries(client, url, django_assert_max_num_queries, 12)
    decide(world, "risk_officer", request.pk, outcome="request_changes", comment="?")
    decide(world, "reviewer", request.pk, outcome="request_changes", comment="!")
    many = _queries(client, url, django_assert_max_num_queries, 12)
    assert few == many
