"""The reviewer queue and "my requests", for every persona, in a fixed number of
queries."""

import re

import pytest
from django.urls import reverse

from approvals.models import ApprovalPolicy
from tests.approvals.conftest import submit
from tests.approvals.pages import body, count_queries, get_as, person
from tests.models_registry import factories

pytestmark = pytest.mark.django_db

QUEUE = reverse("approvals:queue")


def _queued(response) -> list[int]:
    queue = body(response).split('id="queue-heading"')[1].split("</section>")[0]
    return [
        int(pk) for pk in re.findall(r'<tr class="[^"]*" data-request="(\d+)">', queue)
    ]


def _mine(response) -> list[int]:
    page = body(response)
    if 'id="mine-heading"' not in page:
        return []
    mine = page.split('id="mine-heading"')[1].split("</section>")[0]
    return [int(pk) for pk in re.findall(r'<tr data-request="(\d+)">', mine)]


# Whose queue holds a fresh request of dana's for ava's version.
IN_QUEUE = [
    ("requester", False),  # her own request
    ("teammate", False),
    ("author", False),  # a reviewer, but she built the version
    ("stranger", False),
    ("reviewer", True),
    ("unassigned_reviewer", False),
    ("risk_officer", True),
    ("validator", False),
    ("auditor", False),
    ("platform_admin", False),
    ("outsider", False),
]


@pytest.mark.parametrize(("persona", "queued"), IN_QUEUE)
def test_queue_holds_the_requests_a_person_may_decide(client, world, persona, queued):
    request_ = submit(world)
    response = get_as(client, person(world, persona), QUEUE)
    assert response.status_code == 200
    assert _queued(response) == ([request_.pk] if queued else [])
    if not queued:
        assert (
            "ranker"
            not in body(response).split('id="queue-heading"')[1].split("</section>")[0]
        )


def test_queue_row_shows_what_the_reviewer_needs_to_triage(client, world):
    ApprovalPolicy.objects.filter(risk_class="low", environment__name="staging").update(
        required_approvals=2, required_roles=["risk_officer"]
    )
    request_ = submit(world, strategy="canary", traffic_percent=15)
    client.force_login(world.users.risk_officer)
    client.post(
        reverse("approvals:request-decide", args=[request_.pk]), {"outcome": "approve"}
    )
    page = body(get_as(client, world.users.reviewer, QUEUE))
    row = re.search(rf'data-request="{request_.pk}">(.*?)</tr>', page, re.S).group(1)
    assert reverse("approvals:request-detail", args=[request_.pk]) in row
    assert ">ranker</a>" in row
    assert f"v{world.version.version}" in row
    assert "Staging" in row
    assert "Canary · 15%" in row
    assert "Low risk" in row
    assert "1 of 2" in row
    assert "incl. risk officer" in row
    assert "All pass" in row


def test_queue_highlights_failing_gates(client, world):
    ApprovalPolicy.objects.filter(risk_class="low", environment__name="staging").update(
        gate_items=["artifact_pinned", "independent_validation"]
    )
    request_ = submit(world)
    page = body(get_as(client, world.users.reviewer, QUEUE))
    assert f'<tr class="has-failing" data-request="{request_.pk}">' in page
    assert '<span class="badge status-fail">1 failing</span>' in page


def test_queue_lists_the_oldest_first_and_drops_decided_ones(client, world):
    first = submit(world)
    second = submit(world, factories.make_version(world.users.author, world.model))
    assert _queued(get_as(client, world.users.reviewer, QUEUE)) == [
        first.pk,
        second.pk,
    ]
    client.post(
        reverse("approvals:request-decide", args=[first.pk]),
        {"outcome": "reject", "comment": "No."},
    )
    assert _queued(client.get(QUEUE)) == [second.pk]


def test_my_requests_show_what_i_submitted_with_status(client, world):
    mine = submit(world)
    other = submit(
        world,
        factories.make_version(world.users.author, world.model),
        actor=world.users.teammate,
    )
    response = get_as(client, world.users.requester, QUEUE)
    assert _mine(response) == [mine.pk]
    assert other.pk not in _mine(response)
    assert '<span class="badge request-pending">Pending</span>' in body(response)
    assert _mine(get_as(client, world.users.teammate, QUEUE)) == [other.pk]


def test_people_who_request_nothing_see_no_my_requests_section(client, world):
    submit(world)
    page = body(get_as(client, world.users.reviewer, QUEUE))
    assert 'id="mine-heading"' not in page
    page = body(get_as(client, world.users.outsider, QUEUE))
    assert 'id="mine-heading"' not in page
    assert "you hold neither role" in page


@pytest.mark.parametrize("persona", ["reviewer", "requester", "auditor"])
def test_queue_runs_a_fixed_number_of_queries(client, world, persona):
    def add_requests(count):
        for _ in range(count):
            submit(world, factories.make_version(world.users.author, world.model))

    add_requests(1)
    client.force_login(person(world, persona))
    few = count_queries(client, QUEUE)
    add_requests(19)
    client.force_login(person(world, persona))
    many = count_queries(client, QUEUE)
    assert many == few
    assert many <= 8
    response = client.get(QUEUE)
    shown = {"reviewer": _queued, "requester": _mine, "auditor": _queued}[persona]
    assert len(shown(response)) == (0 if persona == "auditor" else 20)
