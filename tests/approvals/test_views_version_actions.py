"""Actions where people look for them: the version page asks for a deployment
and shows its pending requests; the model page links each live deployment to
its monitoring dashboard; a request made over the API answers its page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.approvals.conftest import API, deploy, submit
from tests.approvals.pages import body, get_as, person

pytestmark = pytest.mark.django_db


def _version_page(version) -> str:
    return reverse(
        "registry:version-detail", args=[version.model.name, version.version]
    )


def _new_url(version) -> str:
    return reverse("approvals:request-new", args=[version.model.name, version.version])


@pytest.mark.parametrize(
    ("persona", "may"),
    [
        ("requester", True),
        ("teammate", True),
        ("reviewer", False),
        ("risk_officer", False),
        ("auditor", False),
    ],
)
def test_version_page_offers_a_deployment_request_to_the_team(
    client, world, persona, may
):
    page = body(get_as(client, person(world, persona), _version_page(world.version)))
    assert 'id="requests-heading"' in page
    link = f'<a class="button" href="{_new_url(world.version)}">Request deployment</a>'
    assert (link in page) is may


def test_version_page_shows_its_pending_requests(client, world):
    done = deploy(world)  # staging: executed, no longer pending
    pending = submit(world, environment="production", strategy="canary")
    page = body(get_as(client, world.users.reviewer, _version_page(world.version)))
    detail = reverse("approvals:request-detail", args=[pending.pk])
    assert (
        f'<li data-request="{pending.pk}"><a href="{detail}">Request #{pending.pk}</a>'
        in (page)
    )
    assert "to Production" in page
    assert f'data-request="{done.request_id}"' not in page


def test_version_page_says_when_nothing_is_pending(client, world):
    page = body(get_as(client, world.users.requester, _version_page(world.version)))
    assert f"No request for v{world.version.version} is waiting for a decision." in page


def test_version_page_queries_do_not_grow_with_pending_requests(client, world):
    client.force_login(world.users.reviewer)
    url = _version_page(world.version)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    submit(world)
    count()  # the first request of a session may write the session
    few = count()
    submit(world, environment="production", strategy="canary")
    assert count() == few


def test_model_page_links_live_deployments_to_their_dashboards(client, world):
    deployment = deploy(world)
    page = body(
        get_as(
            client,
            world.users.reviewer,
            reverse("registry:model-detail", args=[world.model.name]),
        )
    )
    dashboard = reverse("monitoring:dashboard", args=[deployment.pk])
    assert f'<a href="{dashboard}" aria-label="Monitoring of v1 in Staging">' in page


def test_a_request_made_over_the_api_answers_its_page(client, world):
    response = world.clients["requester"].post(
        f"{API}requests/",
        {
            "model": "ranker",
            "version": 1,
            "environment": "staging",
            "strategy": "full",
            "justification": "Better recall on 2024 data.",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    page = reverse("approvals:request-detail", args=[response.json()["id"]])
    assert response.json()["page_url"] == page
    listed = world.clients["requester"].get(f"{API}requests/").json()
    assert listed["results"][0]["page_url"] == page
    # And the page is there, for the people who may see the request.
    assert get_as(client, world.users.reviewer, page).status_code == 200
