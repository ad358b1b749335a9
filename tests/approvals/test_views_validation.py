"""The validation report form: validators independent of the version record a
report with findings; blank finding rows are ignored; bad input changes nothing."""

from datetime import date

import pytest
from django.urls import reverse

from approvals.models import Finding, ValidationReport
from audit.models import AuditEvent
from tests.approvals.conftest import approvals_state, audit_actions, submit
from tests.approvals.pages import (
    INVISIBLE,
    body,
    get_as,
    messages_of,
    person,
    post_keeping_state,
)

pytestmark = pytest.mark.django_db


def _url(version) -> str:
    return reverse("approvals:version-validate", args=[version.pk])


def _data(*findings, outcome="passed_with_findings", summary="Challenged it."):
    data = {
        "outcome": outcome,
        "summary": summary,
        "findings-TOTAL_FORMS": "3",
        "findings-INITIAL_FORMS": "0",
        "findings-MIN_NUM_FORMS": "0",
        "findings-MAX_NUM_FORMS": "3",
    }
    for index in range(3):
        row = findings[index] if index < len(findings) else {}
        for field in ("severity", "title", "description", "owner", "due_date"):
            data[f"findings-{index}-{field}"] = row.get(field, "")
    return data


FINDING = {
    "severity": "high",
    "title": "Thin-file applicants under-scored",
    "description": "AUC 0.61 below 2 years of history.",
    "owner": "ava",
    "due_date": "2030-01-31",
}


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("validator", 200),
        ("requester", 403),
        ("reviewer", 403),
        ("risk_officer", 403),
        ("auditor", 403),
        ("platform_admin", 403),
        *((persona, 404) for persona in INVISIBLE),
    ],
)
def test_validation_form_is_for_validators(client, world, persona, status):
    response = get_as(client, person(world, persona), _url(world.version))
    assert response.status_code == status
    response, state = post_keeping_state(
        client, person(world, persona), _url(world.version), _data(FINDING)
    )
    assert response.status_code == (302 if status == 200 else status)
    if status != 200:
        assert approvals_state() == state


def test_validator_records_a_report_with_findings_and_blank_rows_ignored(client, world):
    client.force_login(world.users.validator)
    before = AuditEvent.objects.count()
    response = client.post(_url(world.version), _data(FINDING))
    assert response.status_code == 302
    assert response["Location"] == reverse("approvals:model-timeline", args=["ranker"])
    report = ValidationReport.objects.get()
    assert (report.version, report.validator, report.outcome, report.summary) == (
        world.version,
        world.users.validator,
        "passed_with_findings",
        "Challenged it.",
    )
    finding = Finding.objects.get()
    assert (
        finding.report,
        finding.severity,
        finding.title,
        finding.description,
        finding.owner,
        finding.due_date,
        finding.status,
    ) == (
        report,
        "high",
        "Thin-file applicants under-scored",
        "AUC 0.61 below 2 years of history.",
        world.users.author,
        date(2030, 1, 31),
        "open",
    )
    assert audit_actions(before) == ["validation.recorded"]
    assert messages_of(client.get(response["Location"])) == [
        f"Validation report #{report.pk} of ranker v1 is recorded (passed with "
        "findings, 1 finding)."
    ]


def test_validation_from_a_request_page_returns_there(client, world):
    request_ = submit(world)
    page = reverse("approvals:request-detail", args=[request_.pk])
    client.force_login(world.users.validator)
    assert f"{_url(world.version)}?next={page}" in body(client.get(page))
    response = client.post(
        _url(world.version), {**_data(outcome="passed"), "next": page}
    )
    assert response["Location"] == page
    report_page = body(client.get(page))
    assert "validation-passed" in report_page
    assert "Challenged it." in report_page


def test_validation_ignores_a_next_url_of_another_site(client, world):
    client.force_login(world.users.validator)
    response = client.post(
        _url(world.version),
        {**_data(outcome="passed"), "next": "https://evil.example.com/"},
    )
    assert response["Location"] == reverse("approvals:model-timeline", args=["ranker"])


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        (
            _data(FINDING, outcome="passed"),
            "outcome",
            "With findings, the outcome is passed_with_findings or failed.",
        ),
        (_data(summary=""), "summary", "This field is required."),
        (_data(outcome="great"), "outcome", None),
        (
            _data({**FINDING, "owner": "nobody"}),
            0,
            "owner must be an active user's username.",
        ),
        (_data({"title": "No severity", "owner": "ava"}), 0, None),
        (_data(FINDING, {"severity": "low", "title": "No owner"}), 1, None),
        (_data({**FINDING, "due_date": "someday"}), 0, None),
    ],
)
def test_bad_input_is_an_error_and_changes_nothing(client, world, data, where, message):
    response, state = post_keeping_state(
        client, world.users.validator, _url(world.version), data
    )
    assert response.status_code == 400
    if isinstance(where, int):
        row = response.context["findings"].forms[where]
        assert row.errors
        if message:
            assert row.non_field_errors() == [message]
    else:
        assert where in response.context["form"].errors
        if message:
            assert response.context["form"].errors[where] == [message]
    if message:
        assert message.replace("'", "&#x27;") in body(response)
    assert approvals_state() == state


def test_a_validator_who_built_the_version_is_refused(client, world):
    from kernel import roles
    from models_registry import services as registry
    from tests.conftest import make_user
    from tests.models_registry import factories

    builder = make_user("vic", roles.DATA_SCIENTIST, roles.VALIDATOR, team=world.team)
    registry.model_reviewer_assign(
        actor=world.users.platform_admin, user=builder, model=world.model
    )
    version = factories.make_version(builder, world.model)
    assert get_as(client, builder, _url(version)).status_code == 403
    response, state = post_keeping_state(
        client, builder, _url(version), _data(outcome="passed")
    )
    assert response.status_code == 403
    assert approvals_state() == state


def test_a_validator_who_recorded_the_training_run_gets_no_form(client, world):
    """The page offers the form to exactly those the service accepts: the author
    of the training run is an author of the version too."""
    from kernel import roles
    from models_registry import services as registry
    from tests.conftest import make_user
    from tests.models_registry import factories

    trainer = make_user("tia", roles.DATA_SCIENTIST, roles.VALIDATOR, team=world.team)
    registry.model_reviewer_assign(
        actor=world.users.platform_admin, user=trainer, model=world.model
    )
    run = factories.make_run(trainer, world.model)
    version = factories.make_version(world.users.author, world.model, run=run)
    assert get_as(client, trainer, _url(version)).status_code == 403
    timeline = reverse("approvals:model-timeline", args=[world.model.name])
    assert _url(version) not in body(get_as(client, trainer, timeline))
    response, state = post_keeping_state(
        client, trainer, _url(version), _data(outcome="passed")
    )
    assert response.status_code == 403
    assert approvals_state() == state
