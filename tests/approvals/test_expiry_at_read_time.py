"""Expiry is a fact at read time (issue #14 item 3): a pending request whose
approval window has ended reads as expired everywhere (API, pages, reports,
the reviewer's queue) before the sweep closes it; a new request for the same
version and environment is accepted and closes the stale one in the same
transaction, with its audit event; decisions on it are refused."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals import services
from approvals.models import DeploymentRequest, RequestStatus
from audit.models import AuditEvent
from tests.approvals.conftest import API, submit

pytestmark = pytest.mark.django_db

REQUESTS = f"{API}requests/"


def overdue(world, **extra) -> DeploymentRequest:
    """A request whose window ended a minute ago, not yet swept."""
    request = submit(world, **extra)
    DeploymentRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING  # as stored
    return request


def test_the_api_reads_an_overdue_request_as_expired(world):
    stale = overdue(world)
    client = world.clients["reviewer"]

    detail = client.get(f"{REQUESTS}{stale.pk}/")
    assert detail.status_code == 200
    assert detail.json()["request"]["status"] == "expired"
    assert detail.json()["can_decide"] is False
    assert detail.json()["can_cancel"] is False

    listed = client.get(REQUESTS).json()["results"]
    assert [(item["id"], item["status"]) for item in listed] == [(stale.pk, "expired")]


def test_status_filters_go_by_the_status_as_read_now(world):
    stale = overdue(world)
    open_one = submit(world, environment="production")
    client = world.clients["requester"]

    def ids(status):
        response = client.get(REQUESTS, {"status": status})
        assert response.status_code == 200
        return [item["id"] for item in response.json()["results"]]

    assert ids("pending") == [open_one.pk]
    assert ids("expired") == [stale.pk]


def test_the_queue_leaves_out_overdue_requests(world, client):
    overdue(world)
    response = world.clients["reviewer"].get(f"{REQUESTS}queue")
    assert response.status_code == 200
    assert response.json()["count"] == 0
    client.force_login(world.users.reviewer)
    page = client.get(reverse("approvals:queue"))
    assert page.status_code == 200
    assert page.context["rows"] == []


def test_the_request_page_shows_it_expired(world):
    stale = overdue(world)
    browser = Client()
    browser.force_login(world.users.requester)
    page = browser.get(reverse("approvals:request-detail", args=[stale.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<span class="badge request-expired">Expired</span>' in html
    assert "request-pending" not in html


def test_a_new_request_replaces_an_overdue_one_in_one_transaction(world):
    stale = overdue(world)
    events = AuditEvent.objects.count()

    response = world.clients["requester"].post(
        REQUESTS,
        {
            "model": "ranker",
            "version": 1,
            "environment": "staging",
            "strategy": "full",
            "justification": "Asked again: the first window ended.",
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "pending"
    stale.refresh_from_db()
    assert stale.status == RequestStatus.EXPIRED
    assert stale.closed_at is not None
    assert stale.closing_comment == "Approval window ended."
    new_events = list(
        AuditEvent.objects.order_by("sequence")[events:].values_list(
            "action", "actor_id", "target_id"
        )
    )
    assert new_events == [
        ("request.expired", None, str(stale.pk)),
        ("request.submitted", world.users.requester.pk, str(response.json()["id"])),
    ]


def test_an_open_request_still_refuses_a_second_one(world):
    first = submit(world)
    response = world.clients["requester"].post(
        REQUESTS,
        {
            "model": "ranker",
            "version": 1,
            "environment": "staging",
            "strategy": "full",
            "justification": "Again.",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"]["version"] == [
        f"Request #{first.pk} for this version and environment is still pending."
    ]


def test_decisions_and_cancellation_are_refused(world):
    stale = overdue(world)
    decided = world.clients["reviewer"].post(
        f"{REQUESTS}{stale.pk}/decisions", {"outcome": "approve"}, format="json"
    )
    assert decided.status_code == 409
    assert decided.json()["code"] == "request_closed"
    cancelled = world.clients["requester"].post(
        f"{REQUESTS}{stale.pk}/cancel", {}, format="json"
    )
    assert cancelled.status_code == 409


def test_the_sweep_still_closes_it_once(world):
    stale = overdue(world)
    assert services.deployment_requests_expire() == 1
    assert services.deployment_requests_expire() == 0
    stale.refresh_from_db()
    assert stale.status == RequestStatus.EXPIRED
    assert stale.current_status == RequestStatus.EXPIRED
