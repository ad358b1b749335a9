"""The request page, its decision and cancel forms, and the submit form, for
every persona; bad input and refused actions change nothing."""

import re

import pytest
from django.urls import reverse

from approvals.models import (
    ApprovalPolicy,
    Decision,
    Deployment,
    DeploymentRequest,
    DeploymentStatus,
    RequestStatus,
)
from approvals.services import validation_report_record
from audit.models import AuditEvent
from models_registry import services as registry
from tests.approvals.conftest import approvals_state, audit_actions, deploy, submit
from tests.approvals.pages import (
    INVISIBLE,
    VISIBILITY,
    body,
    count_queries,
    get_as,
    messages_of,
    person,
    post_as,
    post_keeping_state,
)
from tests.models_registry import factories

pytestmark = pytest.mark.django_db


def _url(request_, name="approvals:request-detail"):
    return reverse(name, args=[request_.pk])


def _evaluate(world, version, metrics, slices=()):
    snapshot = factories.make_snapshot(world.users.author, world.team)
    registry.evaluation_record(
        actor=world.users.author,
        version=version,
        split="test",
        dataset=snapshot,
        metrics=metrics,
        slices=list(slices),
    )


# --- Anonymous -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "args"),
    [
        ("approvals:queue", []),
        ("approvals:request-detail", [1]),
        ("approvals:request-decide", [1]),
        ("approvals:request-cancel", [1]),
        ("approvals:request-new", ["ranker", 1]),
        ("approvals:request-new-by-id", []),
        ("approvals:deployment-detail", [1]),
        ("approvals:deployment-rollback", [1]),
        ("approvals:model-timeline", ["ranker"]),
        ("approvals:version-validate", [1]),
    ],
)
def test_pages_send_anonymous_people_to_the_login(client, url_name, args):
    url = reverse(url_name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_actions_refuse_get(client, world):
    request_ = submit(world)
    client.force_login(world.users.reviewer)
    assert client.get(_url(request_, "approvals:request-decide")).status_code == 405
    assert client.get(_url(request_, "approvals:request-cancel")).status_code == 405


# --- Request page --------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "sees"), VISIBILITY)
def test_request_page_answers_404_to_people_who_may_not_see_it(
    client, world, persona, sees
):
    request_ = submit(world)
    response = get_as(client, person(world, persona), _url(request_))
    assert response.status_code == (200 if sees else 404)
    if not sees:
        assert "ranker" not in body(response)


def test_request_page_answers_404_for_an_unknown_request(client, world):
    response = get_as(client, world.users.auditor, "/approvals/requests/999999/")
    assert response.status_code == 404


# Who gets the decision form and the cancel button on a fresh request of dana's.
FORMS = [
    ("requester", False, True),
    ("teammate", False, False),
    ("author", False, False),  # a reviewer too, but she built the version
    ("reviewer", True, False),
    ("risk_officer", True, False),
    ("validator", False, False),
    ("auditor", False, False),
    ("platform_admin", False, True),
]


@pytest.mark.parametrize(("persona", "decides", "cancels"), FORMS)
def test_request_page_shows_the_forms_to_the_people_who_may_use_them(
    client, world, persona, decides, cancels
):
    request_ = submit(world)
    page = body(get_as(client, person(world, persona), _url(request_)))
    assert (_url(request_, "approvals:request-decide") in page) is decides
    assert (_url(request_, "approvals:request-cancel") in page) is cancels


def test_request_page_shows_the_evidence_a_reviewer_reads(client, world):
    _evaluate(world, world.version, {"auc": 0.80, "ks": 0.40})
    deploy(world)
    candidate = factories.make_version(
        world.users.author, world.model, artifact={"preprocessing_code_version": "p-9"}
    )
    _evaluate(
        world,
        candidate,
        {"auc": 0.78, "ks": 0.45},
        slices=[
            {
                "attribute": "sex",
                "group": "female",
                "size": 40,
                "metrics": {"auc": 0.7},
            },
            {"attribute": "sex", "group": "male", "size": 60, "metrics": {"auc": 0.8}},
        ],
    )
    request_ = submit(world, candidate, justification="Fresher data.")
    page = body(get_as(client, world.users.reviewer, _url(request_)))

    assert f"Request #{request_.pk}: ranker" in page
    assert candidate.artifact.sha256 in page
    assert "<code>p-9</code>" in page
    assert "Fresher data." in page
    assert "<strong>0 of 1</strong>" in page
    # Side by side with live v1: auc is worse (higher is better), ks has no target.
    auc = re.search(r'<tr data-metric="auc">(.*?)</tr>', page, re.S).group(1)
    assert '<td class="number" data-label="v2 (this request)">0.78</td>' in auc
    assert '<td class="number" data-label="v1 (live)">0.8</td>' in auc
    assert "delta-worse" in auc
    assert "-0.02" in auc
    ks = re.search(r'<tr data-metric="ks">(.*?)</tr>', page, re.S).group(1)
    assert "+0.05" in ks
    assert "delta-" not in ks
    assert "against live v1" in page
    # The fairness slices with the worst group, and the model card.
    assert "sex=male and sex=female: <strong>0.1</strong>, above the limit" in page
    assert "Score consumer loan applications." in page
    # The gates stored at submission.
    for gate in request_.gate_results:
        assert f'data-gate="{gate["id"]}"' in page
        assert gate["reason"] in page


def test_request_page_shows_decisions_and_the_final_gates(client, world):
    deployment = deploy(world)
    request_ = deployment.request
    page = body(get_as(client, world.users.auditor, _url(request_)))
    assert '<tr data-reviewer="rey">' in page
    assert "Gates at the final approval" in page
    assert reverse("approvals:deployment-detail", args=[deployment.pk]) in page
    assert "request-executed" in page


def test_request_page_runs_a_fixed_number_of_queries(client, world):
    _evaluate(world, world.version, {"auc": 0.80, "ks": 0.40})
    deploy(world)
    ApprovalPolicy.objects.filter(risk_class="low").update(required_approvals=3)
    candidate = factories.make_version(world.users.author, world.model)
    _evaluate(world, candidate, {"auc": 0.82, "ks": 0.41})
    request_ = submit(world, candidate)
    url = _url(request_)

    def add_decision_and_report(approver):
        client.force_login(approver)
        client.post(_url(request_, "approvals:request-decide"), {"outcome": "approve"})
        validation_report_record(
            actor=world.users.validator,
            version=candidate,
            outcome="passed_with_findings",
            summary="Challenged.",
            findings=[
                {"severity": "low", "title": "Docs", "owner": "ava"},
                {"severity": "medium", "title": "Drift", "owner": "tom"},
            ],
        )

    add_decision_and_report(world.users.reviewer)
    client.force_login(world.users.auditor)
    few = count_queries(client, url)
    add_decision_and_report(world.users.risk_officer)
    add_decision_and_report(world.users.reviewer)  # refused: she decided already
    client.force_login(world.users.auditor)
    many = count_queries(client, url)
    assert many == few
    assert many <= 16
    page = body(client.get(url))
    assert page.count('<tr data-reviewer="') == 2
    assert page.count("validation-passed_with_findings") == 3


# --- Deciding ------------------------------------------------------------------------


def test_an_approval_that_completes_the_policy_deploys(client, world):
    request_ = submit(world)
    client.force_login(world.users.reviewer)
    before = AuditEvent.objects.count()
    response = client.post(
        _url(request_, "approvals:request-decide"),
        {"outcome": "approve", "comment": "Looks right."},
    )
    assert response.status_code == 302
    assert response["Location"] == _url(request_)
    deployment = Deployment.objects.get(request=request_)
    assert deployment.status == DeploymentStatus.ACTIVE
    assert deployment.environment.name == "staging"
    request_.refresh_from_db()
    assert request_.status == RequestStatus.EXECUTED
    decision = Decision.objects.get(request=request_)
    assert (decision.reviewer, decision.outcome, decision.role, decision.comment) == (
        world.users.reviewer,
        "approve",
        "reviewer",
        "Looks right.",
    )
    assert audit_actions(before) == ["request.decided", "deployment.executed"]
    page = client.get(_url(request_))
    assert messages_of(page) == [
        f"Approved. The request is complete and was executed: deployment "
        f"#{deployment.pk} of v{world.version.version} is live in staging."
    ]
    assert f"Deployment #{deployment.pk}</a>" in body(page)


def test_an_approval_that_does_not_complete_the_policy_waits(client, world):
    ApprovalPolicy.objects.filter(risk_class="low", environment__name="staging").update(
        required_approvals=2
    )
    request_ = submit(world)
    response = post_as(
        client,
        world.users.risk_officer,
        _url(request_, "approvals:request-decide"),
        {"outcome": "approve"},
    )
    assert response.status_code == 302
    assert not Deployment.objects.exists()
    page = client.get(_url(request_))
    assert messages_of(page) == [
        "Your decision (approve, as risk officer) is recorded."
    ]
    assert "<strong>1 of 2</strong>" in body(page)
    # She has decided: the form is gone, and a second decision is refused.
    assert _url(request_, "approvals:request-decide") not in body(page)
    state = approvals_state()
    again = client.post(
        _url(request_, "approvals:request-decide"), {"outcome": "approve"}
    )
    assert again.status_code == 409
    assert "You have decided this request already" in body(again)
    assert approvals_state() == state


@pytest.mark.parametrize("outcome", ["reject", "request_changes"])
def test_rejecting_without_a_comment_is_a_form_error_and_changes_nothing(
    client, world, outcome
):
    request_ = submit(world)
    response, state = post_keeping_state(
        client,
        world.users.reviewer,
        _url(request_, "approvals:request-decide"),
        {"outcome": outcome, "comment": "   "},
    )
    assert response.status_code == 400
    assert response.context["decision_form"].errors == {
        "comment": ["Say why: a rejection or a change request needs a comment."]
    }
    assert "Say why: a rejection or a change request needs a comment." in body(response)
    assert approvals_state() == state


def test_an_unknown_outcome_is_a_form_error_and_changes_nothing(client, world):
    request_ = submit(world)
    response, state = post_keeping_state(
        client,
        world.users.reviewer,
        _url(request_, "approvals:request-decide"),
        {"outcome": "maybe"},
    )
    assert response.status_code == 400
    assert list(response.context["decision_form"].errors) == ["outcome"]
    assert approvals_state() == state


def test_a_rejection_with_a_comment_closes_the_request(client, world):
    request_ = submit(world)
    response = post_as(
        client,
        world.users.reviewer,
        _url(request_, "approvals:request-decide"),
        {"outcome": "reject", "comment": "The AUC fell on thin files."},
    )
    assert response.status_code == 302
    request_.refresh_from_db()
    assert request_.status == RequestStatus.REJECTED
    assert request_.closing_comment == "The AUC fell on thin files."
    assert not Deployment.objects.exists()
    page = body(client.get(_url(request_)))
    assert "The AUC fell on thin files." in page
    assert _url(request_, "approvals:request-decide") not in page


def test_a_failing_gate_at_the_final_approval_is_shown_and_changes_nothing(
    client, world
):
    request_ = submit(world)
    # The policy now also wants an independent validation, which nobody did.
    ApprovalPolicy.objects.filter(risk_class="low", environment__name="staging").update(
        gate_items=["artifact_pinned", "independent_validation"]
    )
    response, state = post_keeping_state(
        client,
        world.users.reviewer,
        _url(request_, "approvals:request-decide"),
        {"outcome": "approve"},
    )
    assert response.status_code == 409
    page = body(response)
    assert "Not approved: a gate fails" in page
    assert (
        '<li data-gate="independent_validation"><strong>Independent validation '
        "passed, no open high-severity findings</strong>: No validation report by a "
        "validator independent of the version.</li>" in page
    )
    assert response.context["gate_error"]["message"] == (
        "The final approval is blocked: Independent validation passed, no open "
        "high-severity findings: No validation report by a validator independent "
        "of the version."
    )
    # Nothing changed, and the form is still there to decide again later.
    assert approvals_state() == state
    assert _url(request_, "approvals:request-decide") in page


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("requester", 403),
        ("teammate", 403),
        ("author", 403),
        ("validator", 403),
        ("auditor", 403),
        ("platform_admin", 403),
        ("stranger", 404),
        ("unassigned_reviewer", 404),
        ("outsider", 404),
    ],
)
@pytest.mark.parametrize(
    "data", [{"outcome": "approve"}, {"outcome": "reject", "comment": ""}, {}]
)
def test_people_who_may_not_decide_are_refused_and_nothing_changes(
    client, world, persona, status, data
):
    request_ = submit(world)
    response, state = post_keeping_state(
        client, person(world, persona), _url(request_, "approvals:request-decide"), data
    )
    assert response.status_code == status
    assert approvals_state() == state


def test_a_closed_request_takes_no_decision(client, world):
    request_ = submit(world)
    post_as(
        client,
        world.users.requester,
        _url(request_, "approvals:request-cancel"),
        {"reason": "Wrong version."},
    )
    response, state = post_keeping_state(
        client,
        world.users.reviewer,
        _url(request_, "approvals:request-decide"),
        {"outcome": "approve"},
    )
    assert response.status_code == 409
    assert f"Request #{request_.pk} is cancelled: it takes no decision." in body(
        response
    )
    assert approvals_state() == state


# --- Cancelling ----------------------------------------------------------------------


def test_the_requester_cancels_her_request(client, world):
    request_ = submit(world)
    client.force_login(world.users.requester)
    before = AuditEvent.objects.count()
    response = client.post(
        _url(request_, "approvals:request-cancel"), {"reason": "Wrong version."}
    )
    assert response.status_code == 302
    request_.refresh_from_db()
    assert request_.status == RequestStatus.CANCELLED
    assert request_.closing_comment == "Wrong version."
    assert audit_actions(before) == ["request.cancelled"]
    page = client.get(_url(request_))
    assert messages_of(page) == [f"Request #{request_.pk} is cancelled."]
    assert _url(request_, "approvals:request-cancel") not in body(page)


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("teammate", 403),
        ("reviewer", 403),
        ("auditor", 403),
        ("stranger", 404),
        ("outsider", 404),
    ],
)
def test_only_the_requester_or_an_admin_cancels(client, world, persona, status):
    request_ = submit(world)
    response, state = post_keeping_state(
        client, person(world, persona), _url(request_, "approvals:request-cancel")
    )
    assert response.status_code == status
    assert approvals_state() == state


def test_a_platform_admin_cancels_from_the_page_and_a_bad_reason_is_a_form_error(
    client, world
):
    request_ = submit(world)
    # A credential in the reason: refused, nothing changes, the page says why.
    response, state = post_keeping_state(
        client,
        world.users.platform_admin,
        _url(request_, "approvals:request-cancel"),
        {"reason": "token: ghp_abcdefghijklmnopqrstuvwxyz0123"},
    )
    assert response.status_code == 400
    assert approvals_state() == state
    assert "Looks like it holds credentials" in body(response)
    assert "ghp_abcdefghijklmnop" not in body(response)
    response = client.post(
        _url(request_, "approvals:request-cancel"), {"reason": "Superseded."}
    )
    assert response.status_code == 302
    request_.refresh_from_db()
    assert request_.status == RequestStatus.CANCELLED


# --- Submitting ----------------------------------------------------------------------


def _new_url(version) -> str:
    return reverse("approvals:request-new", args=[version.model.name, version.version])


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("requester", 200),
        ("teammate", 200),
        ("author", 200),
        ("reviewer", 403),
        ("risk_officer", 403),
        ("validator", 403),
        ("auditor", 403),
        ("platform_admin", 403),
        ("stranger", 404),
        ("unassigned_reviewer", 404),
        ("outsider", 404),
    ],
)
def test_submit_form_is_for_the_owning_team(client, world, persona, status):
    response = get_as(client, person(world, persona), _new_url(world.version))
    assert response.status_code == status
    if status == 200:
        assert 'name="justification"' in body(response)


@pytest.mark.parametrize("query", ["", "?version=", "?version=abc", "?version=999999"])
def test_the_old_form_address_needs_a_version_it_can_see(client, world, query):
    response = get_as(
        client, world.users.requester, reverse("approvals:request-new-by-id") + query
    )
    assert response.status_code == 404


def test_the_form_is_addressed_by_the_version_number(client, world):
    url = _new_url(world.version)
    assert url == f"/approvals/models/ranker/versions/{world.version.version}/request/"
    missing = reverse("approvals:request-new", args=["ranker", 99])
    assert get_as(client, world.users.requester, missing).status_code == 404


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_old_form_address_redirects_keeping_the_method(client, world, method):
    old = f"{reverse('approvals:request-new-by-id')}?version={world.version.pk}"
    client.force_login(world.users.requester)
    response = getattr(client, method)(old)
    assert response.status_code == 308
    assert response["Location"] == _new_url(world.version)


def test_the_old_form_address_hides_versions_from_outsiders(client, world):
    old = f"{reverse('approvals:request-new-by-id')}?version={world.version.pk}"
    assert get_as(client, world.users.stranger, old).status_code == 404


def test_submitting_opens_a_request_with_its_gates(client, world):
    client.force_login(world.users.requester)
    before = AuditEvent.objects.count()
    response = client.post(
        _new_url(world.version),
        {
            "environment": "staging",
            "kind": "deploy",
            "strategy": "canary",
            "traffic_percent": "20",
            "justification": "Better recall on 2024 data.",
        },
    )
    request_ = DeploymentRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url(request_)
    assert (
        request_.version,
        request_.environment.name,
        request_.strategy,
        request_.traffic_percent,
        request_.requested_by,
        request_.status,
    ) == (world.version, "staging", "canary", 20, world.users.requester, "pending")
    assert request_.gate_results
    assert audit_actions(before) == ["request.submitted"]
    page = client.get(_url(request_))
    assert messages_of(page) == [
        f"Request #{request_.pk} is submitted to the reviewers. Every gate passes now."
    ]


def test_submitting_without_traffic_takes_the_strategy_default(client, world):
    post_as(
        client,
        world.users.requester,
        _new_url(world.version),
        {
            "environment": "staging",
            "kind": "deploy",
            "strategy": "canary",
            "traffic_percent": "",
            "justification": "Try it on a tenth.",
        },
    )
    assert DeploymentRequest.objects.get().traffic_percent == 10


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"traffic_percent": "80"},
            "traffic_percent",
            "A canary takes 1 to 50 percent of traffic.",
        ),
        ({"traffic_percent": "0"}, "traffic_percent", None),
        ({"justification": ""}, "justification", "This field is required."),
        ({"environment": "moon"}, "environment", None),
        ({"strategy": "yolo"}, "strategy", None),
        (
            {"kind": "promote"},
            "strategy",
            "Promoting a canary means going to full traffic.",
        ),
    ],
)
def test_bad_input_on_the_submit_form_is_a_field_error_and_changes_nothing(
    client, world, changes, field, message
):
    data = {
        "environment": "staging",
        "kind": "deploy",
        "strategy": "canary",
        "traffic_percent": "10",
        "justification": "Better recall.",
    }
    data.update(changes)
    response, state = post_keeping_state(
        client, world.users.requester, _new_url(world.version), data
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
        assert message in body(response)
    assert approvals_state() == state


def test_a_second_pending_request_for_the_same_version_is_refused(client, world):
    first = submit(world)
    response, state = post_keeping_state(
        client,
        world.users.requester,
        _new_url(world.version),
        {
            "environment": "staging",
            "kind": "deploy",
            "strategy": "full",
            "justification": "Again.",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        f"Request #{first.pk} for this version and environment is still pending."
    ]
    assert approvals_state() == state


@pytest.mark.parametrize("persona", INVISIBLE)
def test_people_who_may_not_see_the_version_cannot_submit(client, world, persona):
    response, state = post_keeping_state(
        client,
        person(world, persona),
        _new_url(world.version),
        {"environment": "staging", "strategy": "full", "justification": "x"},
    )
    assert response.status_code == 404
    assert approvals_state() == state


def test_the_submit_form_shows_every_error_at_once(client, world):
    response, state = post_keeping_state(
        client,
        world.users.requester,
        _new_url(world.version),
        {
            "environment": "staging",
            "kind": "deploy",
            "strategy": "canary",
            "traffic_percent": "80",
            "justification": "",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "traffic_percent": ["A canary takes 1 to 50 percent of traffic."],
        "justification": ["This field is required."],
    }
    assert approvals_state() == state
