"""Deployment pages, one-click rollback with its confirmation, the timeline and
the deployments section of the model page, for every persona."""

import re

import pytest
from django.urls import reverse

from approvals.models import Deployment, DeploymentSource, DeploymentStatus
from audit.models import AuditEvent
from tests.approvals.conftest import approvals_state, audit_actions, deploy, new_version
from tests.approvals.pages import (
    INVISIBLE,
    VISIBILITY,
    body,
    count_queries,
    get_as,
    messages_of,
    person,
    post_keeping_state,
)

pytestmark = pytest.mark.django_db

# Who gets the rollback button: the owning team holds the rollback permission,
# and risk officers who oversee the model may pull it back in an emergency.
MAY_ROLL_BACK = [
    ("requester", True),
    ("teammate", True),
    ("author", True),
    ("reviewer", False),
    ("risk_officer", True),
    ("validator", False),
    ("auditor", False),
    ("platform_admin", False),
]


@pytest.fixture
def two(world):
    """v1 then v2 fully deployed to staging: v2's rollback target is v1."""
    first = deploy(world)
    second_version = new_version(world)
    second = deploy(world, second_version)
    return first, second


def _detail(deployment) -> str:
    return reverse("approvals:deployment-detail", args=[deployment.pk])


def _rollback(deployment) -> str:
    return reverse("approvals:deployment-rollback", args=[deployment.pk])


def _timeline(name="ranker") -> str:
    return reverse("approvals:model-timeline", args=[name])


# --- Deployment page -----------------------------------------------------------------


@pytest.mark.parametrize(("persona", "sees"), VISIBILITY)
def test_deployment_page_answers_404_to_people_who_may_not_see_it(
    client, world, two, persona, sees
):
    response = get_as(client, person(world, persona), _detail(two[1]))
    assert response.status_code == (200 if sees else 404)
    if not sees:
        assert two[1].artifact_sha256 not in body(response)


def test_deployment_page_answers_404_for_an_unknown_deployment(client, world):
    response = get_as(client, world.users.auditor, "/approvals/deployments/999999/")
    assert response.status_code == 404


def test_deployment_page_shows_what_runs_and_its_rollback_target(client, world, two):
    first, second = two
    page = body(get_as(client, world.users.auditor, _detail(second)))
    assert f"Deployment #{second.pk}: ranker" in page
    assert f"<dt>Artifact id</dt><dd>{second.artifact_id}</dd>" in page
    assert f'<code class="wrap">{second.artifact_sha256}</code>' in page
    assert "<dt>Environment</dt><dd>Staging</dd>" in page
    assert reverse("approvals:request-detail", args=[second.request_id]) in page
    assert "by rey" in page
    target = page.split('id="rollback-heading"')[1]
    assert f"deployment #{first.pk}</a>, the one it replaced" in target
    assert f"<dt>Version</dt><dd>v{first.version.version}</dd>" in target
    assert f'<code class="wrap" id="target-sha256">{first.artifact_sha256}</code>' in (
        target
    )


@pytest.mark.parametrize(("persona", "may"), MAY_ROLL_BACK)
def test_rollback_button_is_shown_to_the_people_who_may_roll_back(
    client, world, two, persona, may
):
    page = body(get_as(client, person(world, persona), _detail(two[1])))
    assert (_rollback(two[1]) in page) is may


def test_deployment_without_a_target_says_so_and_has_no_button(client, world):
    first = deploy(world)
    page = body(get_as(client, world.users.requester, _detail(first)))
    assert "<strong>There is no rollback target.</strong>" in page
    assert "there is no earlier deployment to go back to" in page
    assert _rollback(first) not in page


def test_an_ended_deployment_offers_no_rollback(client, world, two):
    first, _ = two
    page = body(get_as(client, world.users.requester, _detail(first)))
    assert "deployment-superseded" in page
    assert _rollback(first) not in page


# --- Rollback ------------------------------------------------------------------------


def test_rollback_confirmation_names_the_target_artifact(client, world, two):
    first, second = two
    response = get_as(client, world.users.requester, _rollback(second))
    assert response.status_code == 200
    page = body(response)
    assert f"Deployment #{first.pk}: v{first.version.version}" in page
    assert f'<code class="wrap" id="target-sha256">{first.artifact_sha256}</code>' in (
        page
    )
    # The button names the version people know, not an artifact hash.
    assert (
        f'<button type="submit" class="danger">Roll back to v{first.version.version}'
        "</button>" in page
    )
    assert "Roll back to artifact" not in page
    assert 'name="reason"' in page
    assert not Deployment.objects.filter(status=DeploymentStatus.ROLLED_BACK).exists()


def test_confirming_a_rollback_restores_the_target(client, world, two):
    first, second = two
    client.force_login(world.users.requester)
    before = AuditEvent.objects.count()
    response = client.post(_rollback(second), {"reason": "Error rate doubled."})
    assert response.status_code == 302
    assert response["Location"] == _timeline()
    second.refresh_from_db()
    assert second.status == DeploymentStatus.ROLLED_BACK
    assert second.end_reason == "Error rate doubled."
    restored = Deployment.objects.get(status=DeploymentStatus.ACTIVE)
    assert (restored.source, restored.restores, restored.artifact_sha256) == (
        DeploymentSource.ROLLBACK,
        first,
        first.artifact_sha256,
    )
    assert audit_actions(before) == ["deployment.rolled_back"]
    timeline = client.get(response["Location"])
    assert messages_of(timeline) == [
        f"Deployment #{second.pk} (v{second.version.version}) is rolled back. Live "
        f"in staging again: v{first.version.version}, artifact "
        f"{first.artifact_sha256} (restored as deployment #{restored.pk})."
    ]
    row = re.search(
        rf'data-deployment="{second.pk}">(.*?)</tr>', body(timeline), re.S
    ).group(1)
    assert "Rolled back" in row
    assert "Error rate doubled." in row


def test_a_risk_officer_rolls_back_in_an_emergency(client, world, two):
    response, _ = post_keeping_state(
        client, world.users.risk_officer, _rollback(two[1]), {"reason": "Incident 42."}
    )
    assert response.status_code == 302
    assert response["Location"] == _timeline()
    two[1].refresh_from_db()
    assert two[1].status == DeploymentStatus.ROLLED_BACK


@pytest.mark.parametrize("reason", ["", "   "])
def test_rollback_without_a_reason_is_a_form_error_and_changes_nothing(
    client, world, two, reason
):
    response, state = post_keeping_state(
        client, world.users.requester, _rollback(two[1]), {"reason": reason}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert approvals_state() == state


def test_a_reason_that_looks_like_a_credential_is_refused(client, world, two):
    response, state = post_keeping_state(
        client,
        world.users.requester,
        _rollback(two[1]),
        {"reason": "rolled back with AKIAIOSFODNN7EXAMPLE"},
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["reason"]
    assert approvals_state() == state


def test_rollback_without_a_target_says_so_and_changes_nothing(client, world):
    first = deploy(world)
    page = get_as(client, world.users.requester, _rollback(first))
    assert page.status_code == 200
    assert "Nothing to roll back" in body(page)
    assert (
        f"Deployment #{first.pk} replaced nothing: there is no earlier deployment to "
        "go back to." in body(page)
    )
    assert 'name="reason"' not in body(page)
    response, state = post_keeping_state(
        client, world.users.requester, _rollback(first), {"reason": "Bad."}
    )
    assert response.status_code == 409
    assert approvals_state() == state


def test_an_ended_deployment_cannot_be_rolled_back(client, world, two):
    first, _ = two
    response, state = post_keeping_state(
        client, world.users.requester, _rollback(first), {"reason": "Bad."}
    )
    assert response.status_code == 409
    assert "only a live deployment can be rolled back" in body(response)
    assert approvals_state() == state


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("reviewer", 403),
        ("validator", 403),
        ("auditor", 403),
        ("platform_admin", 403),
        *((persona, 404) for persona in INVISIBLE),
    ],
)
def test_people_who_may_not_roll_back_are_refused_and_nothing_changes(
    client, world, two, persona, status
):
    assert get_as(client, person(world, persona), _rollback(two[1])).status_code == (
        status
    )
    response, state = post_keeping_state(
        client, person(world, persona), _rollback(two[1]), {"reason": "Bad."}
    )
    assert response.status_code == status
    assert approvals_state() == state


# --- Timeline ------------------------------------------------------------------------


@pytest.mark.parametrize(("persona", "sees"), VISIBILITY)
def test_timeline_answers_404_to_people_who_may_not_see_the_model(
    client, world, two, persona, sees
):
    response = get_as(client, person(world, persona), _timeline())
    assert response.status_code == (200 if sees else 404)


def test_timeline_lists_each_environment_newest_first(client, world, two):
    first, second = two
    page = body(get_as(client, world.users.requester, _timeline()))
    staging = page.split('data-environment="staging"')[1].split("</section>")[0]
    rows = re.findall(r'data-deployment="(\d+)"', staging)
    assert rows == [str(second.pk), str(first.pk)]
    assert "Superseded" in staging
    assert "Replaced by request" in staging
    production = page.split('data-environment="production"')[1].split("</section>")[0]
    assert "ranker has never been deployed to Production." in production
    # The rollback button sits on the live deployment only.
    assert _rollback(second) in staging
    assert _rollback(first) not in staging


@pytest.mark.parametrize(("persona", "may"), MAY_ROLL_BACK)
def test_timeline_shows_rollback_buttons_to_the_people_who_may_roll_back(
    client, world, two, persona, may
):
    page = body(get_as(client, person(world, persona), _timeline()))
    assert (_rollback(two[1]) in page) is may


def test_timeline_lists_the_requests_and_the_actions_on_versions(client, world, two):
    page = body(get_as(client, world.users.requester, _timeline()))
    assert reverse("approvals:request-detail", args=[two[1].request_id]) in page
    new = reverse(
        "approvals:request-new", args=[world.model.name, world.version.version]
    )
    assert new in page
    assert reverse("approvals:version-validate", args=[world.version.pk]) not in page
    page = body(get_as(client, world.users.validator, _timeline()))
    assert reverse("approvals:version-validate", args=[world.version.pk]) in page
    assert new not in page
    page = body(get_as(client, world.users.auditor, _timeline()))
    assert 'id="versions-heading"' not in page


@pytest.mark.parametrize("persona", ["requester", "auditor"])
def test_timeline_runs_a_fixed_number_of_queries(client, world, persona):
    def add_deployments(count):
        for _ in range(count):
            deploy(world, new_version(world))

    add_deployments(1)
    client.force_login(person(world, persona))
    few = count_queries(client, _timeline())
    add_deployments(29)
    client.force_login(person(world, persona))
    many = count_queries(client, _timeline())
    assert many == few
    assert many <= 12
    page = body(client.get(_timeline()))
    assert len(re.findall(r'data-deployment="\d+"', page)) == 30


# --- Model page ----------------------------------------------------------------------


def test_model_page_shows_what_is_live_and_links_the_timeline(client, world, two):
    first, second = two
    page = body(
        get_as(
            client,
            world.users.requester,
            reverse("registry:model-detail", args=["ranker"]),
        )
    )
    section = page.split('id="deployments-heading"')[1].split("</section>")[0]
    staging = section.split('data-environment="staging"')[1].split("</tr>")[0]
    assert _detail(second) in staging
    assert _detail(first) not in staging
    assert second.artifact_sha256[:16] in staging
    assert _rollback(second) in staging
    production = section.split('data-environment="production"')[1].split("</tr>")[0]
    assert "nothing deployed" in production
    assert _timeline() in section


def test_model_page_shows_no_rollback_button_to_reviewers(client, world, two):
    page = body(
        get_as(
            client,
            world.users.reviewer,
            reverse("registry:model-detail", args=["ranker"]),
        )
    )
    assert _detail(two[1]) in page
    assert _rollback(two[1]) not in page


def test_model_page_deployments_run_a_fixed_number_of_queries(client, world):
    url = reverse("registry:model-detail", args=["ranker"])
    deploy(world)
    client.force_login(world.users.requester)
    few = count_queries(client, url)
    for _ in range(5):
        deploy(world, new_version(world))
        deploy(world, new_version(world), strategy="canary", traffic_percent=5)
    client.force_login(world.users.requester)
    many = count_queries(client, url)
    assert many == few
    assert many <= 14
