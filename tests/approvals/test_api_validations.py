"""The API of independent validation: reports with findings on a version, and
moving a finding."""

import pytest
from rest_framework.fields import DateTimeField

from approvals import services
from approvals.api import examples
from approvals.models import ApprovalPolicy, Finding, ValidationReport
from audit.models import AuditEvent
from kernel import roles
from tests.approvals.conftest import (
    API,
    approvals_state,
    audit_actions,
    client_for,
    submit,
)
from tests.conftest import make_user
from tests.models_registry import factories

pytestmark = pytest.mark.django_db


def iso(moment) -> str:
    return DateTimeField().to_representation(moment)


def validations_url(version) -> str:
    return f"{API}versions/{version.pk}/validations"


def report_body(**overrides) -> dict:
    body = {
        "outcome": "passed_with_findings",
        "summary": "Replicated the test metrics; challenged the binning.",
        "findings": [
            {
                "severity": "high",
                "title": "Calibration drifts above 200k income",
                "description": "Expected/observed 1.3 in the top decile.",
                "owner": "tom",
                "due_date": "2025-04-01",
            },
            {"severity": "low", "title": "Typo in the card", "owner": "dana"},
        ],
    }
    body.update(overrides)
    return body


def record(world, findings=None):
    return services.validation_report_record(
        actor=world.users.validator,
        version=world.version,
        outcome="passed_with_findings",
        summary="Challenged.",
        findings=[
            {"severity": "high", "title": "Leakage", "owner": "tom", "due_date": None}
        ]
        if findings is None
        else findings,
    )


def test_a_validator_records_a_report_with_findings(world):
    before = AuditEvent.objects.count()
    response = world.clients["validator"].post(
        validations_url(world.version), report_body(), format="json"
    )
    assert response.status_code == 201, response.json()
    report = ValidationReport.objects.get()
    high, low = Finding.objects.order_by("pk")
    assert response.json() == {
        "id": report.pk,
        "version": world.version.pk,
        "validator": "val",
        "outcome": "passed_with_findings",
        "summary": "Replicated the test metrics; challenged the binning.",
        "findings": [
            {
                "id": high.pk,
                "report": report.pk,
                "severity": "high",
                "title": "Calibration drifts above 200k income",
                "description": "Expected/observed 1.3 in the top decile.",
                "status": "open",
                "owner": "tom",
                "due_date": "2025-04-01",
                "updated_at": iso(high.updated_at),
            },
            {
                "id": low.pk,
                "report": report.pk,
                "severity": "low",
                "title": "Typo in the card",
                "description": "",
                "status": "open",
                "owner": "dana",
                "due_date": None,
                "updated_at": iso(low.updated_at),
            },
        ],
        "created_at": iso(report.created_at),
    }
    assert set(response.json()) == set(examples.VALIDATION_REPORT)
    assert (high.owner, high.due_date.isoformat()) == (
        world.users.teammate,
        "2025-04-01",
    )
    assert audit_actions(before) == ["validation.recorded"]


def test_lists_the_reports_of_a_version_newest_first(world):
    older = record(world)
    newer = record(world, findings=[])
    response = world.clients["auditor"].get(validations_url(world.version))
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]
    assert [finding["title"] for finding in body["results"][1]["findings"]] == [
        "Leakage"
    ]


def test_reports_of_an_invisible_version_are_not_found(world):
    response = world.clients["stranger"].get(validations_url(world.version))
    assert response.status_code == 404
    assert response.json()["code"] == "version_not_found"


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"outcome": "fine"}, {"outcome": ['"fine" is not a valid choice.']}),
        ({"summary": ["no"]}, {"summary": ["Must be text."]}),
        ({"summary": " "}, {"summary": ["Summarise the validation."]}),
        ({"findings": "none"}, {"findings": [
            'Expected a list of items but got type "str".'
        ]}),
        ({"findings": [{"severity": "dire", "title": "x", "owner": "tom"}]}, {
            "findings[0].severity": ['"dire" is not a valid choice.']
        }),
        ({"findings": [{"severity": "low", "owner": "tom"}]}, {
            "findings[0].title": ["This field is required."]
        }),
        ({"findings": [
            {"severity": "low", "title": "x", "owner": "tom", "due_date": "soon"}
        ]}, {"findings[0].due_date": [
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
        ]}),
        ({"findings": [{"severity": "low", "title": "x", "owner": "nobody"}]}, {
            "findings[0]": ["owner must be an active user's username."]
        }),
        ({"outcome": "passed"}, {"outcome": [
            "With findings, the outcome is passed_with_findings or failed."
        ]}),
        ({"verdict": "ok"}, {"verdict": ["Unknown field."]}),
    ],
)  # fmt: skip
def test_bad_reports_answer_field_errors_and_change_nothing(world, overrides, fields):
    before = approvals_state()
    response = world.clients["validator"].post(
        validations_url(world.version), report_body(**overrides), format="json"
    )
    assert response.status_code == 400, response.json()
    assert response.json() == {
        "code": "invalid",
        "message": "The validation report was not recorded.",
        "fields": fields,
    }
    assert approvals_state() == before


def test_a_validator_cannot_validate_a_version_they_built(world, team):
    builder = make_user("vic", roles.VALIDATOR, roles.DATA_SCIENTIST, team=team)
    own = factories.make_version(builder, world.model)
    client = client_for(builder)
    before = approvals_state()
    response = client.post(
        validations_url(own), report_body(findings=[]), format="json"
    )
    assert response.status_code == 403
    assert response.json() == {
        "code": "separation_of_duties",
        "message": "A validator cannot validate a version they built.",
        "fields": {},
    }
    assert approvals_state() == before


def test_an_open_high_finding_fails_the_gate_until_resolved(world):
    ApprovalPolicy.objects.filter(
        risk_class="low", environment__name="production"
    ).update(gate_items=["independent_validation"])
    record(world)
    finding = Finding.objects.get()
    client = world.clients["requester"]
    body = {
        "model": "ranker",
        "version": 1,
        "environment": "production",
        "strategy": "canary",
        "justification": "Validated.",
    }

    def validation_gate():
        response = client.post(f"{API}requests/", body, format="json")
        assert response.status_code == 201, response.json()
        client.post(f"{API}requests/{response.json()['id']}/cancel")
        return next(
            (gate["status"], gate["reason"])
            for gate in response.json()["gates"]
            if gate["id"] == "independent_validation"
        )

    assert validation_gate() == ("fail", "Open findings: high: Leakage.")
    response = world.clients["teammate"].post(
        f"{API}findings/{finding.pk}/status",
        {"status": "resolved", "comment": "Fixed in the feature pipeline."},
        format="json",
    )
    assert (response.status_code, response.json()["status"]) == (200, "resolved")
    assert validation_gate() == (
        "pass",
        "Validated by val (passed with findings).",
    )


# --- Findings ------------------------------------------------------------------------


def test_the_owner_resolves_a_finding(world):
    record(world)
    finding = Finding.objects.get()
    before = AuditEvent.objects.count()
    response = world.clients["teammate"].post(
        f"{API}findings/{finding.pk}/status",
        {"status": "resolved", "comment": "Recalibrated."},
        format="json",
    )
    assert response.status_code == 200
    finding.refresh_from_db()
    assert response.json() == {
        "id": finding.pk,
        "report": finding.report_id,
        "severity": "high",
        "title": "Leakage",
        "description": "",
        "status": "resolved",
        "owner": "tom",
        "due_date": None,
        "updated_at": iso(finding.updated_at),
    }
    assert set(response.json()) == set(examples.FINDING)
    assert audit_actions(before) == ["finding.status_changed"]
    event = AuditEvent.objects.order_by("sequence").last()
    assert event.payload["diff"] == {"status": ["open", "resolved"]}


def test_only_validators_accept_a_findings_risk(world):
    record(world)
    finding = Finding.objects.get()
    url = f"{API}findings/{finding.pk}/status"
    before = approvals_state()
    refused = world.clients["teammate"].post(url, {"status": "accepted"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert approvals_state() == before
    accepted = world.clients["validator"].post(
        url, {"status": "accepted"}, format="json"
    )
    assert (accepted.status_code, accepted.json()["status"]) == (200, "accepted")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"status": ["This field is required."]}),
        ({"status": "closed"}, {"status": ['"closed" is not a valid choice.']}),
        ({"status": "resolved", "comment": 3}, {"comment": ["Must be text."]}),
        ({"status": "resolved", "by": "me"}, {"by": ["Unknown field."]}),
    ],
)
def test_bad_finding_changes_answer_field_errors(world, body, fields):
    record(world)
    finding = Finding.objects.get()
    before = approvals_state()
    response = world.clients["validator"].post(
        f"{API}findings/{finding.pk}/status", body, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The finding was not changed.",
        "fields": fields,
    }
    assert approvals_state() == before


@pytest.mark.parametrize("persona", ["outsider", "unassigned_reviewer", "stranger"])
def test_findings_of_invisible_models_are_not_found(world, persona):
    record(world)
    finding = Finding.objects.get()
    before = approvals_state()
    response = world.clients[persona].post(
        f"{API}findings/{finding.pk}/status", {"status": "resolved"}, format="json"
    )
    assert response.status_code == 404
    assert response.json() == {
        "code": "finding_not_found",
        "message": "No such finding.",
        "fields": {},
    }
    assert approvals_state() == before


def test_an_unknown_finding_is_not_found(world):
    response = world.clients["validator"].post(
        f"{API}findings/987654/status", {"status": "resolved"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (404, "finding_not_found")


def test_validation_list_takes_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    client = world.clients["reviewer"]
    url = validations_url(world.version)
    record(world)
    client.get(url)
    with django_assert_max_num_queries(8) as few:
        client.get(url)
    for _ in range(3):
        record(
            world,
            findings=[
                {"severity": "low", "title": "a", "owner": "dana"},
                {"severity": "medium", "title": "b", "owner": "tom"},
            ],
        )
    with django_assert_max_num_queries(8) as many:
        assert client.get(url).json()["count"] == 4
    assert len(few.captured_queries) == len(many.captured_queries)


def test_request_detail_shows_the_validation_reports(world):
    record(world)
    request = submit(world)
    body = world.clients["reviewer"].get(f"{API}requests/{request.pk}/").json()
    assert [report["validator"] for report in body["validation_reports"]] == ["val"]
    assert body["validation_reports"][0]["findings"][0]["owner"] == "tom"
