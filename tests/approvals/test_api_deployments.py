"""The API of deployments: list, detail, one-click rollback, and "what should be
live" with its ETag and its answer for a past moment."""

import json

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.fields import DateTimeField

from approvals import services
from approvals.api import examples
from approvals.models import Deployment, WebhookDelivery, WebhookEndpoint
from audit.models import AuditEvent
from tests.approvals.conftest import (
    API,
    approvals_state,
    audit_actions,
    deploy,
    new_version,
    submit,
)

pytestmark = pytest.mark.django_db

DEPLOYMENTS = f"{API}deployments/"
LIVE = f"{API}models/ranker/deployments/staging"


def iso(moment) -> str | None:
    return DateTimeField().to_representation(moment) if moment else None


def rollback(world, persona, deployment_id, body=None):
    return world.clients[persona].post(
        f"{DEPLOYMENTS}{deployment_id}/rollback",
        {"reason": "Approval rate fell 12%."} if body is None else body,
        format="json",
    )


@pytest.fixture
def two(world):
    """v1 deployed to staging, then v2 replacing it."""
    first = deploy(world)
    second_version = new_version(world)
    second = deploy(world, second_version)
    first.refresh_from_db()
    return first, second


# --- List and detail -----------------------------------------------------------------


def test_reads_a_deployment_with_its_rollback_target(world, two):
    first, second = two
    response = world.clients["requester"].get(f"{DEPLOYMENTS}{second.pk}/")
    assert response.status_code == 200
    version = second.version
    assert response.json() == {
        "id": second.pk,
        "model": "ranker",
        "environment": "staging",
        "version": 2,
        "version_id": version.pk,
        "artifact": {
            "id": version.artifact_id,
            "uri": version.artifact.uri,
            "sha256": version.artifact.sha256,
        },
        "strategy": "full",
        "traffic_percent": 100,
        "status": "active",
        "source": "request",
        "request": second.request_id,
        "rollback_target": {
            "id": first.pk,
            "version": 1,
            "artifact_sha256": world.version.artifact.sha256,
            "strategy": "full",
            "traffic_percent": 100,
            "status": "superseded",
        },
        "restores": None,
        "deployed_by": "rey",
        "started_at": iso(second.started_at),
        "ended_at": None,
        "ended_by": None,
        "end_reason": "",
    }
    assert set(response.json()) == set(examples.DEPLOYMENT)
    earlier = world.clients["requester"].get(f"{DEPLOYMENTS}{first.pk}/").json()
    assert (earlier["status"], earlier["rollback_target"]) == ("superseded", None)
    assert earlier["ended_at"] == iso(first.ended_at)
    assert earlier["ended_by"] == "rey"


def test_lists_deployments_newest_first_with_filters(world, two):
    first, second = two
    client = world.clients["auditor"]
    body = client.get(DEPLOYMENTS).json()
    assert [item["id"] for item in body["results"]] == [second.pk, first.pk]
    assert [
        item["id"]
        for item in client.get(DEPLOYMENTS, {"status": "active"}).json()["results"]
    ] == [second.pk]
    assert client.get(DEPLOYMENTS, {"model": "ranker"}).json()["count"] == 2
    assert client.get(DEPLOYMENTS, {"model": "other"}).json()["count"] == 0
    assert client.get(DEPLOYMENTS, {"environment": "production"}).json()["count"] == 0
    assert client.get(DEPLOYMENTS, {"environment": "staging"}).json()["count"] == 2


def test_list_filters_are_checked(world):
    response = world.clients["auditor"].get(DEPLOYMENTS, {"status": "asleep"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"status": ['"asleep" is not a valid choice.']}


def test_an_unknown_deployment_is_not_found(world):
    response = world.clients["auditor"].get(f"{DEPLOYMENTS}424242/")
    assert response.status_code == 404
    assert response.json() == {
        "code": "deployment_not_found",
        "message": "No such deployment.",
        "fields": {},
    }


# --- Rollback ------------------------------------------------------------------------


def test_rollback_restores_the_target(world, two, django_capture_on_commit_callbacks):
    first, second = two
    before = AuditEvent.objects.count()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = rollback(world, "requester", second.pk)
    assert response.status_code == 200, response.json()
    second.refresh_from_db()
    restored = Deployment.objects.get(status="active")
    body = response.json()
    assert set(body) == set(examples.ROLLBACK)
    assert body["rolled_back"]["id"] == second.pk
    assert (
        body["rolled_back"]["status"],
        body["rolled_back"]["ended_by"],
        body["rolled_back"]["end_reason"],
        body["rolled_back"]["ended_at"],
    ) == ("rolled_back", "dana", "Approval rate fell 12%.", iso(second.ended_at))
    assert body["restored"] == {
        "id": restored.pk,
        "model": "ranker",
        "environment": "staging",
        "version": 1,
        "version_id": world.version.pk,
        "artifact": {
            "id": world.version.artifact_id,
            "uri": world.version.artifact.uri,
            "sha256": world.version.artifact.sha256,
        },
        "strategy": "full",
        "traffic_percent": 100,
        "status": "active",
        "source": "rollback",
        "request": first.request_id,
        "rollback_target": None,
        "restores": {
            "id": first.pk,
            "version": 1,
            "artifact_sha256": world.version.artifact.sha256,
            "strategy": "full",
            "traffic_percent": 100,
            "status": "superseded",
        },
        "deployed_by": "dana",
        "started_at": iso(restored.started_at),
        "ended_at": None,
        "ended_by": None,
        "end_reason": "",
    }
    assert restored.started_at == second.ended_at
    assert Deployment.objects.filter(status="active").count() == 1
    assert audit_actions(before) == ["deployment.rolled_back"]
    event = AuditEvent.objects.order_by("sequence").last()
    assert (event.payload["emergency"], event.payload["reason"]) == (
        True,
        "Approval rate fell 12%.",
    )
    # The owning team hears of it.
    assert sorted({address for m in mail.outbox for address in m.to}) == [
        "ava@example.com",
        "dana@example.com",
        "tom@example.com",
    ]


def test_rollback_records_a_signed_webhook_in_the_outbox(world, two):
    _, second = two
    WebhookEndpoint.objects.create(
        name="cd", url="https://cd.example.com/hooks", secret="s3cr3t-value"
    )
    response = rollback(world, "risk_officer", second.pk)
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get(event="deployment.rolled_back")
    data = json.loads(delivery.body)
    assert data["data"]["reason"] == "Approval rate fell 12%."
    assert data["data"]["rolled_back_by"] == "rio"


def test_rolling_back_a_canary_returns_traffic_to_the_live_deployment(world):
    full = deploy(world)
    canary = deploy(world, new_version(world), strategy="canary", traffic_percent=20)
    assert canary.rollback_target_id == full.pk
    response = rollback(world, "requester", canary.pk)
    assert response.status_code == 200
    assert response.json()["restored"] is None
    assert response.json()["rolled_back"]["status"] == "rolled_back"
    assert list(
        Deployment.objects.filter(status="active").values_list("pk", flat=True)
    ) == [full.pk]


def test_rollback_without_a_target_says_so_and_changes_nothing(world):
    only = deploy(world)
    before = approvals_state()
    response = rollback(world, "requester", only.pk)
    assert response.status_code == 409
    assert response.json() == {
        "code": "no_rollback_target",
        "message": f"Deployment #{only.pk} replaced nothing: there is no earlier "
        "deployment to go back to. Deploy another version instead.",
        "fields": {},
    }
    assert approvals_state() == before


def test_rolling_back_a_deployment_that_is_not_live_is_a_conflict(world, two):
    first, _ = two
    before = approvals_state()
    response = rollback(world, "requester", first.pk)
    assert response.status_code == 409
    assert response.json()["code"] == "deployment_not_active"
    assert approvals_state() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"reason": ["This field is required."]}),
        ({"reason": None}, {"reason": ["This field may not be null."]}),
        ({"reason": 12}, {"reason": ["Must be text."]}),
        ({"reason": "   "}, {"reason": ["Say why you roll back."]}),
        ({"reason": "ok", "force": True}, {"force": ["Unknown field."]}),
    ],
)
def test_rollback_needs_a_reason(world, two, body, fields):
    _, second = two
    before = approvals_state()
    response = rollback(world, "requester", second.pk, body)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Nothing was rolled back.",
        "fields": fields,
    }
    assert approvals_state() == before


def test_a_credential_in_the_reason_is_refused(world, two):
    _, second = two
    before = approvals_state()
    response = rollback(
        world, "requester", second.pk, {"reason": "see AKIAIOSFODNN7EXAMPLE"}
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    assert approvals_state() == before


def test_rollback_is_atomic(world, two, monkeypatch):
    """A failure after the rows were written (here, while notifying) leaves the
    deployment live and restores nothing."""
    _, second = two

    def broken(*args, **kwargs):
        raise RuntimeError("webhook outbox unavailable")

    monkeypatch.setattr(services.notifications, "notify_deployment_rolled_back", broken)
    client = world.clients["requester"]
    client.raise_request_exception = False
    before = approvals_state()
    response = rollback(world, "requester", second.pk)
    assert response.status_code == 500
    assert approvals_state() == before
    second.refresh_from_db()
    assert second.status == "active"


# --- What should be live -------------------------------------------------------------


def test_live_lists_the_active_artifacts_with_an_etag(world, two):
    _, second = two
    canary = deploy(world, new_version(world), strategy="canary", traffic_percent=5)
    response = world.clients["requester"].get(LIVE)
    assert response.status_code == 200
    body = response.json()
    assert response["ETag"] == body["etag"]
    assert response["Cache-Control"] == "private, no-cache"
    assert set(body) == set(examples.LIVE)
    assert (body["model"], body["environment"], body["at"]) == (
        "ranker",
        "staging",
        None,
    )
    assert body["deployments"] == [
        {
            "deployment": canary.pk,
            "version": 3,
            "version_id": canary.version_id,
            "artifact_id": canary.artifact_id,
            "artifact_uri": canary.version.artifact.uri,
            "sha256": canary.artifact_sha256,
            "strategy": "canary",
            "traffic_percent": 5,
            "started_at": iso(canary.started_at),
            "ended_at": None,
        },
        {
            "deployment": second.pk,
            "version": 2,
            "version_id": second.version_id,
            "artifact_id": second.artifact_id,
            "artifact_uri": second.version.artifact.uri,
            "sha256": second.artifact_sha256,
            "strategy": "full",
            "traffic_percent": 100,
            "started_at": iso(second.started_at),
            "ended_at": None,
        },
    ]


def test_the_etag_changes_only_when_what_is_live_changes(world):
    client = world.clients["reviewer"]
    nothing = client.get(LIVE)
    assert (nothing.status_code, nothing.json()["deployments"]) == (200, [])
    first = deploy(world)
    deployed = client.get(LIVE)["ETag"]
    assert deployed != nothing["ETag"]
    assert client.get(LIVE)["ETag"] == deployed  # nothing changed
    unchanged = client.get(LIVE, HTTP_IF_NONE_MATCH=deployed)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == deployed
    # A request that is submitted but not yet approved changes nothing live.
    second_version = new_version(world)
    pending = submit(world, second_version)
    assert client.get(LIVE, HTTP_IF_NONE_MATCH=deployed).status_code == 304
    services.decision_record(
        actor=world.users.reviewer, request_id=pending.pk, outcome="approve"
    )
    redeployed = client.get(LIVE, HTTP_IF_NONE_MATCH=deployed)
    assert redeployed.status_code == 200
    assert redeployed["ETag"] not in (deployed, nothing["ETag"])
    second = Deployment.objects.get(status="active")
    assert rollback(world, "requester", second.pk).status_code == 200
    rolled_back = client.get(LIVE, HTTP_IF_NONE_MATCH=redeployed["ETag"])
    assert rolled_back.status_code == 200
    assert rolled_back["ETag"] not in (deployed, redeployed["ETag"])
    assert [item["version"] for item in rolled_back.json()["deployments"]] == [1]
    assert rolled_back.json()["deployments"][0]["deployment"] != first.pk


def test_if_none_match_accepts_a_list_and_weak_tags(world):
    deploy(world)
    client = world.clients["reviewer"]
    etag = client.get(LIVE)["ETag"]
    assert client.get(LIVE, HTTP_IF_NONE_MATCH=f'"old", W/{etag}').status_code == 304
    assert client.get(LIVE, HTTP_IF_NONE_MATCH='"old"').status_code == 200


def test_at_answers_what_was_live_then_across_a_rollback(world):
    client = world.clients["requester"]
    before_anything = timezone.now()
    first = deploy(world)
    with_v1 = timezone.now()
    second = deploy(world, new_version(world))
    with_v2 = timezone.now()
    assert rollback(world, "requester", second.pk).status_code == 200
    after_rollback = timezone.now()
    restored = Deployment.objects.get(status="active")

    def live_at(moment):
        response = client.get(LIVE, {"at": moment.isoformat()})
        assert response.status_code == 200, response.json()
        assert response.json()["at"] == iso(moment)
        return [
            (item["deployment"], item["version"], item["sha256"])
            for item in response.json()["deployments"]
        ]

    v1_sha = world.version.artifact.sha256
    assert live_at(before_anything) == []
    assert live_at(with_v1) == [(first.pk, 1, v1_sha)]
    assert live_at(with_v2) == [(second.pk, 2, second.artifact_sha256)]
    assert live_at(after_rollback) == [(restored.pk, 1, v1_sha)]
    # The history is answered, not overwritten: a past moment keeps its answer
    # and its ETag, which differs from the current one.
    past = client.get(LIVE, {"at": with_v2.isoformat()})
    assert past["ETag"] == client.get(LIVE, {"at": with_v2.isoformat()})["ETag"]
    assert past["ETag"] != client.get(LIVE)["ETag"]


def test_at_takes_a_utc_designator(world):
    deploy(world)
    response = world.clients["requester"].get(LIVE, {"at": "2000-01-01T00:00:00Z"})
    assert response.status_code == 200
    assert (response.json()["at"], response.json()["deployments"]) == (
        "2000-01-01T00:00:00Z",
        [],
    )


@pytest.mark.parametrize("at", ["yesterday", "2025-13-01T00:00:00Z", "1700000000"])
def test_a_malformed_at_is_a_field_error(world, at):
    response = world.clients["requester"].get(LIVE, {"at": at})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["at"]


def test_live_for_an_unknown_environment_or_invisible_model_is_not_found(world):
    unknown = world.clients["requester"].get(f"{API}models/ranker/deployments/moon")
    assert (unknown.status_code, unknown.json()["code"]) == (
        404,
        "environment_not_found",
    )
    hidden = world.clients["outsider"].get(LIVE)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "model_not_found")


# --- Query counts --------------------------------------------------------------------


def _queries(client, url, django_assert_max_num_queries, bound, **extra):
    client.get(url, **extra)  # warm up: the token's last use is written once a minute
    with django_assert_max_num_queries(bound) as captured:
        response = client.get(url, **extra)
    assert response.status_code in (200, 304)
    return len(captured.captured_queries)


def test_live_takes_a_fixed_small_number_of_queries(
    world, django_assert_max_num_queries
):
    client = world.clients["reviewer"]
    deploy(world)
    one = _queries(client, LIVE, django_assert_max_num_queries, 6)
    deploy(world, new_version(world), strategy="canary", traffic_percent=5)
    deploy(world, new_version(world), strategy="shadow")
    three = _queries(client, LIVE, django_assert_max_num_queries, 6)
    etag = client.get(LIVE)["ETag"]
    not_modified = _queries(
        client, LIVE, django_assert_max_num_queries, 6, HTTP_IF_NONE_MATCH=etag
    )
    at = _queries(
        client,
        f"{LIVE}?at={timezone.now().isoformat().replace('+', '%2B')}",
        django_assert_max_num_queries,
        6,
    )
    assert one == three == not_modified == at


def test_deployment_list_takes_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    client = world.clients["reviewer"]
    deploy(world)
    few = _queries(client, DEPLOYMENTS, django_assert_max_num_queries, 5)
    for _ in range(3):
        second = deploy(world, new_version(world))
    rollback(world, "requester", second.pk)
    many = _queries(client, DEPLOYMENTS, django_assert_max_num_queries, 5)
    assert few == many
