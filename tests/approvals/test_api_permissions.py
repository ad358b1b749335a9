"""Who may see and do what through the approvals API, persona by persona.

Every refused write also checks that nothing changed: no row, no audit event.
What a persona may not see answers 404, as if it did not exist.
"""

import pytest

from approvals import services
from approvals.models import (
    Decision,
    Deployment,
    DeploymentRequest,
    Finding,
    ValidationReport,
)
from tests.approvals.conftest import (
    API,
    PERSONAS,
    approvals_state,
    deploy,
    new_version,
    submit,
)

pytestmark = pytest.mark.django_db

SEES_THE_MODEL = {
    "requester",
    "teammate",
    "reviewer",
    "risk_officer",
    "validator",
    "auditor",
    "platform_admin",
}


@pytest.fixture
def scene(world):
    """v1 then v2 deployed to staging (v2 live, v1 its rollback target), a pending
    request for v3, a validation report on v2 with a finding owned by tom, and
    v4 waiting to be requested."""
    first = deploy(world)
    v2 = new_version(world)
    second = deploy(world, v2)
    pending = submit(world, new_version(world))
    services.validation_report_record(
        actor=world.users.validator,
        version=v2,
        outcome="passed_with_findings",
        summary="Challenged.",
        findings=[{"severity": "medium", "title": "Binning", "owner": "tom"}],
    )
    new_version(world)  # v4
    return {
        "first": first,
        "second": second,
        "v2": v2,
        "pending": pending,
        "finding": Finding.objects.get(),
    }


# --- Reads ---------------------------------------------------------------------------


def _reads(scene) -> dict[str, str]:
    return {
        "request": f"{API}requests/{scene['pending'].pk}/",
        "deployment": f"{API}deployments/{scene['second'].pk}/",
        "live": f"{API}models/ranker/deployments/staging",
        "live_at": f"{API}models/ranker/deployments/staging?at=2030-01-01T00:00:00Z",
        "validations": f"{API}versions/{scene['v2'].pk}/validations",
    }


READ_NOT_FOUND_CODES = {
    "request": "request_not_found",
    "deployment": "deployment_not_found",
    "live": "model_not_found",
    "live_at": "model_not_found",
    "validations": "version_not_found",
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_details_are_seen_by_those_who_see_the_model(world, scene, persona):
    client = world.clients[persona]
    answers = {
        read: (response.status_code, response.json().get("code"))
        for read, url in _reads(scene).items()
        for response in [client.get(url)]
    }
    if persona == "anonymous":
        expected = dict.fromkeys(answers, (401, "not_authenticated"))
    elif persona in SEES_THE_MODEL:
        expected = dict.fromkeys(answers, (200, None))
    else:
        expected = {read: (404, code) for read, code in READ_NOT_FOUND_CODES.items()}
    assert answers == expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_hold_only_what_the_persona_may_see(world, scene, persona):
    client = world.clients[persona]
    requests = client.get(f"{API}requests/")
    deployments = client.get(f"{API}deployments/")
    queue = client.get(f"{API}requests/queue")
    if persona == "anonymous":
        assert {requests.status_code, deployments.status_code, queue.status_code} == {
            401
        }
        return
    seen = persona in SEES_THE_MODEL
    assert requests.json()["count"] == (3 if seen else 0)
    assert deployments.json()["count"] == (2 if seen else 0)
    assert [item["id"] for item in queue.json()["results"]] == (
        [scene["pending"].pk] if persona in {"reviewer", "risk_officer"} else []
    )


# --- Writes --------------------------------------------------------------------------

# persona -> expected status, per write.
WRITES = {
    "submit": {
        "requester": 201,
        "teammate": 201,
        "reviewer": 403,
        "unassigned_reviewer": 404,
        "risk_officer": 403,
        "validator": 403,
        "auditor": 403,
        "platform_admin": 403,
        # Neither role nor team: may change nothing, which is said before the
        # body (naming the model) is read (issue #14: permission first).
        "outsider": 403,
        "anonymous": 401,
    },
    "decide": {
        "requester": 403,
        "teammate": 403,
        "reviewer": 201,
        "unassigned_reviewer": 404,
        "risk_officer": 201,
        "validator": 403,
        "auditor": 403,
        "platform_admin": 403,
        "outsider": 404,
        "anonymous": 401,
    },
    "cancel": {
        "requester": 200,
        "teammate": 403,
        "reviewer": 403,
        "unassigned_reviewer": 404,
        "risk_officer": 403,
        "validator": 403,
        "auditor": 403,
        "platform_admin": 200,
        "outsider": 404,
        "anonymous": 401,
    },
    "rollback": {
        "requester": 200,
        "teammate": 200,
        "reviewer": 403,
        "unassigned_reviewer": 404,
        "risk_officer": 200,
        "validator": 403,
        "auditor": 403,
        "platform_admin": 403,
        "outsider": 404,
        "anonymous": 401,
    },
    "validate": {
        "requester": 403,
        "teammate": 403,
        "reviewer": 403,
        "unassigned_reviewer": 404,
        "risk_officer": 403,
        "validator": 201,
        "auditor": 403,
        "platform_admin": 403,
        "outsider": 404,
        "anonymous": 401,
    },
    "finding": {
        "requester": 403,
        "teammate": 200,  # tom owns the finding
        "reviewer": 403,
        "unassigned_reviewer": 404,
        "risk_officer": 403,
        "validator": 200,
        "auditor": 403,
        "platform_admin": 403,
        "outsider": 404,
        "anonymous": 401,
    },
}

NOT_FOUND_CODES = {
    "submit": "model_not_found",
    "decide": "request_not_found",
    "cancel": "request_not_found",
    "rollback": "deployment_not_found",
    "validate": "version_not_found",
    "finding": "finding_not_found",
}


def _write(client, scene, write):
    pending, second = scene["pending"], scene["second"]
    url, body = {
        "submit": (
            f"{API}requests/",
            {
                "model": "ranker",
                "version": 4,
                "environment": "staging",
                "strategy": "full",
                "justification": "Fresher data.",
            },
        ),
        "decide": (f"{API}requests/{pending.pk}/decisions", {"outcome": "approve"}),
        "cancel": (f"{API}requests/{pending.pk}/cancel", {"reason": "Not needed."}),
        "rollback": (
            f"{API}deployments/{second.pk}/rollback",
            {"reason": "Error rate doubled."},
        ),
        "validate": (
            f"{API}versions/{scene['v2'].pk}/validations",
            {"outcome": "passed", "summary": "Replicated."},
        ),
        "finding": (
            f"{API}findings/{scene['finding'].pk}/status",
            {"status": "resolved"},
        ),
    }[write]
    return client.post(url, body, format="json")


def _changed(scene, write) -> bool:
    """Whether the write took effect."""
    if write == "submit":
        return DeploymentRequest.objects.filter(version__version=4).exists()
    if write == "decide":
        return Decision.objects.filter(request=scene["pending"]).exists()
    if write == "cancel":
        return DeploymentRequest.objects.get(pk=scene["pending"].pk).status == (
            "cancelled"
        )
    if write == "rollback":
        return Deployment.objects.get(pk=scene["second"].pk).status == "rolled_back"
    if write == "validate":
        return ValidationReport.objects.count() == 2
    return Finding.objects.get(pk=scene["finding"].pk).status == "resolved"


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("write", list(WRITES))
def test_who_may_write(world, scene, persona, write):
    expected = WRITES[write][persona]
    before = approvals_state()
    response = _write(world.clients[persona], scene, write)
    assert response.status_code == expected, response.json()
    if expected in (200, 201):
        assert _changed(scene, write)
        return
    assert (
        response.json()["code"]
        == {
            401: "not_authenticated",
            403: "permission_denied",
            404: NOT_FOUND_CODES[write],
        }[expected]
    )
    assert not _changed(scene, write)
    assert approvals_state() == before


def test_the_auditor_reads_everything_and_writes_nothing(world, scene):
    """Summary of the auditor's row: every read answers 200, every write 403."""
    client = world.clients["auditor"]
    for url in _reads(scene).values():
        assert client.get(url).status_code == 200
    before = approvals_state()
    assert [_write(client, scene, write).status_code for write in WRITES] == [
        403
    ] * len(WRITES)
    assert approvals_state() == before
