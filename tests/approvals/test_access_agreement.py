"""The pages offer an action exactly when the service accepts it.

For every persona around the ``ranker`` model and each rule of
``approvals.access`` (decide, cancel, roll back, validate, request), the pages
(and the queue, the timeline and the model page's template tag) are asked
whether they offer the action, and the service is called inside a savepoint
that is rolled back, so an accepted call changes nothing either.
"""

import pytest
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse

from approvals import selectors, services
from approvals.templatetags.approvals_tags import model_deployments
from kernel.errors import ServiceError
from tests.approvals.conftest import deploy, new_version, submit
from tests.approvals.pages import VISIBILITY, person

pytestmark = pytest.mark.django_db

PERSONAS = [persona for persona, _ in VISIBILITY]


class _Undo(Exception):
    """Rolls back the savepoint of an accepted call."""


def accepts(call) -> bool:
    """Whether the service accepts the call; nothing it did is kept."""
    try:
        with transaction.atomic():
            call()
            raise _Undo
    except _Undo:
        return True
    except ServiceError:
        return False


def page(client, user, url):
    """The page as the user sees it, or None when it is refused (403/404)."""
    client.force_login(user)
    response = client.get(url)
    if response.status_code in (403, 404):
        return None
    assert response.status_code == 200, (url, response.status_code)
    return response


def _decide(world, client):
    request = submit(world)
    url = reverse("approvals:request-detail", kwargs={"id": request.pk})
    for persona in PERSONAS:
        user = person(world, persona)
        response = page(client, user, url)
        offered = response is not None and response.context["decision_form"] is not None
        queued = request in selectors.request_queue(actor=user)
        accepted = accepts(
            lambda user=user: services.decision_record(
                actor=user,
                request_id=request.pk,
                outcome="request_changes",
                comment="Show the recall per region.",
            )
        )
        yield persona, {"page": offered, "queue": queued, "service": accepted}


def _cancel(world, client):
    request = submit(world)
    url = reverse("approvals:request-detail", kwargs={"id": request.pk})
    for persona in PERSONAS:
        user = person(world, persona)
        response = page(client, user, url)
        offered = response is not None and response.context["cancel_form"] is not None
        accepted = accepts(
            lambda user=user: services.deployment_request_cancel(
                actor=user, request_id=request.pk
            )
        )
        yield persona, {"page": offered, "service": accepted}


def _roll_back(world, client):
    deploy(world)
    deployment = deploy(world, new_version(world))
    assert deployment.rollback_target_id is not None
    detail = reverse("approvals:deployment-detail", kwargs={"id": deployment.pk})
    confirm = reverse("approvals:deployment-rollback", kwargs={"id": deployment.pk})
    timeline = reverse("approvals:model-timeline", kwargs={"name": world.model.name})
    for persona in PERSONAS:
        user = person(world, persona)
        shown = page(client, user, detail)
        listed = page(client, user, timeline)
        fake = RequestFactory().get("/")
        fake.user = user
        accepted = accepts(
            lambda user=user: services.deployment_rollback(
                actor=user, deployment_id=deployment.pk, reason="Latency doubled."
            )
        )
        yield (
            persona,
            {
                "page": shown is not None and shown.context["may_roll_back"],
                "confirmation": page(client, user, confirm) is not None,
                "timeline": listed is not None and listed.context["may_roll_back"],
                "model page": shown is not None
                and model_deployments({"request": fake}, world.model)["may_roll_back"],
                "service": accepted,
            },
        )


def _validate(world, client):
    version = world.version
    form = reverse("approvals:version-validate", kwargs={"id": version.pk})
    timeline = reverse("approvals:model-timeline", kwargs={"name": world.model.name})
    for persona in PERSONAS:
        user = person(world, persona)
        listed = page(client, user, timeline)
        rows = listed.context["versions"] if listed is not None else []
        accepted = accepts(
            lambda user=user: services.validation_report_record(
                actor=user,
                version=version,
                outcome="passed",
                summary="Replicated the test metrics.",
            )
        )
        yield (
            persona,
            {
                "page": page(client, user, form) is not None,
                "timeline": any(
                    row["may_validate"] for row in rows if row["version"] == version
                ),
                "service": accepted,
            },
        )


def _request(world, client):
    form = reverse(
        "approvals:request-new", args=[world.model.name, world.version.version]
    )
    timeline = reverse("approvals:model-timeline", kwargs={"name": world.model.name})
    for persona in PERSONAS:
        user = person(world, persona)
        listed = page(client, user, timeline)
        accepted = accepts(lambda user=user: submit(world, actor=user))
        yield (
            persona,
            {
                "page": page(client, user, form) is not None,
                "timeline": listed is not None and listed.context["may_request"],
                "service": accepted,
            },
        )


# The rule, the personas the service accepts, and what asks each page.
RULES = [
    ("decide", _decide, {"reviewer", "risk_officer"}),
    ("cancel", _cancel, {"requester", "platform_admin"}),
    (
        "roll back",
        _roll_back,
        {"requester", "teammate", "author", "risk_officer"},
    ),
    ("validate", _validate, {"validator"}),
    ("request", _request, {"requester", "teammate", "author"}),
]


@pytest.mark.parametrize(
    ("rule", "answers", "allowed"), RULES, ids=[rule for rule, _, _ in RULES]
)
def test_pages_offer_an_action_exactly_when_the_service_accepts_it(
    world, client, rule, answers, allowed
):
    table = dict(answers(world, client))

    disagreements = {
        persona: row for persona, row in table.items() if len(set(row.values())) != 1
    }
    assert disagreements == {}
    assert {persona for persona, row in table.items() if row["service"]} == allowed
