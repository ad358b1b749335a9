"""The home page: what waits for the reviewer's decision, and activity whose
targets are links."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals import services
from tests.approvals import conftest as approvals_fixtures
from tests.approvals.conftest import submit

# The approvals tests' world (a model, its team and its reviewers) as fixtures.
world = approvals_fixtures.world
fast_passwords = approvals_fixtures.fast_passwords
_receivers_on_loopback = approvals_fixtures._receivers_on_loopback

pytestmark = pytest.mark.django_db

HOME = reverse("home")


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def test_a_reviewer_sees_what_waits_for_her_decision(client, world):
    waiting = submit(world)
    page = _home(client, world.users.reviewer)
    assert '<h2 id="waiting-heading">Waiting for your decision (1)</h2>' in page
    url = reverse("approvals:request-detail", args=[waiting.pk])
    assert (
        f'<li data-request="{waiting.pk}"><a href="{url}">Request #{waiting.pk}: '
        f"ranker v1 to Staging</a>" in page
    )


def test_decided_requests_and_own_versions_are_not_waiting(client, world):
    decided = submit(world)
    services.decision_record(
        actor=world.users.reviewer,
        request_id=decided.pk,
        outcome="request_changes",
        comment="Add the out-of-time split.",
    )
    assert "Nothing is waiting for your decision." in _home(
        client, world.users.reviewer
    )
    # Ava registered the version: she reviews the model but may not decide it.
    assert "Nothing is waiting for your decision." in _home(client, world.users.author)


def test_people_who_do_not_approve_see_no_waiting_list(client, world):
    submit(world)
    for user in (world.users.requester, world.users.auditor):
        assert 'id="waiting-heading"' not in _home(client, user)


def test_activity_targets_are_links(client, world):
    request_ = submit(world)
    page = _home(client, world.users.requester)
    url = reverse("approvals:request-detail", args=[request_.pk])
    assert f'<a href="{url}">' in page
    version = reverse("registry:version-detail", args=["ranker", 1])
    assert f'<a href="{version}">' in _home(client, world.users.author)


def test_home_queries_do_not_grow_with_waiting_requests(client, world):
    client.force_login(world.users.reviewer)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get(HOME)
        return len(queries)

    submit(world)
    count()  # the first request of a session may write the session
    few = count()
    submit(world, environment="production", strategy="canary")
    assert count() == few


def test_activity_shows_action_labels_not_codes(client, world):
    submit(world)
    page = _home(client, world.users.requester)
    assert '<td data-label="Action">Deploy requested</td>' in page
    assert "request.submitted" not in page
    assert '<td data-label="Action">Version registered</td>' in _home(
        client, world.users.author
    )
