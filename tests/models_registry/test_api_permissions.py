"""Who may do what through the API: every persona and every action.

A model the actor may not see answers 404 and is absent from lists, never 403.
Auditors read everything and change nothing. Every refused write leaves every
registry table and the audit log as they were.
"""

from types import SimpleNamespace

import pytest

from kernel import roles
from models_registry import services
from models_registry.models import Evaluation, ModelVersion, RegisteredModel
from tests.conftest import make_user
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    artifact_body,
    client_for,
    dataset_body,
    evaluation_body,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
    model_body,
    registry_state,
    run_body,
)

pytestmark = pytest.mark.django_db

PERSONAS = [
    "team_data_scientist",
    "other_data_scientist",
    "assigned_reviewer",
    "unassigned_reviewer",
    "assigned_risk_officer",
    "unassigned_risk_officer",
    "validator",
    "auditor",
    "platform_admin",
    "outsider",
    "anonymous",
]


@pytest.fixture
def world(
    data_scientist,
    team,
    credit_model,
    other_data_scientist,
    other_team,
    reviewer,
    risk_officer,
    validator,
    auditor,
    platform_admin,
    outsider,
):
    """credit-scoring (team credit-risk) with one version, its run and snapshots;
    a reviewer and a risk officer assigned to it; a model of another team."""
    train = factories.make_snapshot(data_scientist, team)
    test = factories.make_snapshot(data_scientist, team)
    run = factories.make_run(
        data_scientist, credit_model, inputs=[(train, "train"), (test, "test")]
    )
    version = factories.make_version(data_scientist, credit_model, run=run)
    for user in (reviewer, risk_officer):
        services.model_reviewer_assign(
            actor=platform_admin, user=user, model=credit_model
        )
    other_model = factories.make_model(
        other_data_scientist, other_team, name="recommender", risk_class="low"
    )
    other_snapshot = factories.make_snapshot(other_data_scientist, other_team)
    other_version = factories.make_version(other_data_scientist, other_model)
    users = {
        "team_data_scientist": data_scientist,
        "other_data_scientist": other_data_scientist,
        "assigned_reviewer": reviewer,
        "unassigned_reviewer": make_user("ray", roles.REVIEWER),
        "assigned_risk_officer": risk_officer,
        "unassigned_risk_officer": make_user("rita", roles.RISK_OFFICER),
        "validator": validator,
        "auditor": auditor,
        "platform_admin": platform_admin,
        "outsider": outsider,
        "anonymous": None,
    }
    return SimpleNamespace(
        model=credit_model,
        version=version,
        run=run,
        snapshots=(train, test),
        other_model=other_model,
        other_version=other_version,
        other_snapshot=other_snapshot,
        users=users,
    )


# --- Lists ----------------------------------------------------------------------------

SEES_BOTH = {"credit-scoring", "recommender"}
VISIBLE_MODELS = {
    "team_data_scientist": {"credit-scoring"},
    "other_data_scientist": {"recommender"},
    "assigned_reviewer": {"credit-scoring"},
    "unassigned_reviewer": set(),
    "assigned_risk_officer": {"credit-scoring"},
    "unassigned_risk_officer": set(),
    "validator": set(),
    "auditor": SEES_BOTH,
    "platform_admin": SEES_BOTH,
    "outsider": set(),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_hold_only_what_the_persona_may_see(world, persona):
    client = client_for(world.users[persona])
    urls = [
        f"{API}models/",
        f"{API}versions/",
        f"{API}datasets/",
        f"{API}models/credit-scoring/versions/",
    ]
    if persona == "anonymous":
        for url in urls:
            response = client.get(url)
            assert response.status_code == 401
            assert response.json()["code"] == "not_authenticated"
        return
    expected = VISIBLE_MODELS[persona]
    models = client.get(f"{API}models/").json()
    assert {row["name"] for row in models["results"]} == expected
    assert models["count"] == len(expected)
    versions = client.get(f"{API}versions/").json()["results"]
    expected_versions = {
        world.version.pk for name in expected if name == "credit-scoring"
    } | {world.other_version.pk for name in expected if name == "recommender"}
    assert {row["id"] for row in versions} == expected_versions
    datasets = client.get(f"{API}datasets/").json()["results"]
    expected_datasets = set()
    if "credit-scoring" in expected:
        # The team's snapshots, or those used by runs of the models one sees.
        expected_datasets |= {snapshot.pk for snapshot in world.snapshots}
    if persona in {"other_data_scientist", "auditor", "platform_admin"}:
        expected_datasets.add(world.other_snapshot.pk)
    assert {row["id"] for row in datasets} == expected_datasets
    response = client.get(f"{API}models/credit-scoring/versions/")
    assert response.status_code == (200 if "credit-scoring" in expected else 404)


# --- Reads ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_reads_answer_200_or_404(world, persona):
    client = client_for(world.users[persona])
    version = world.version.pk
    train, _ = world.snapshots
    urls = [
        f"{API}models/credit-scoring/",
        f"{API}models/credit-scoring/runs/",
        f"{API}versions/{version}/",
        f"{API}versions/{version}/checklist",
        f"{API}versions/{version}/card",
        f"{API}versions/{version}/card/revisions",
        f"{API}versions/{version}/evaluations",
        f"{API}versions/{version}/reproductions",
        f"{API}runs/{world.run.pk}/",
        f"{API}datasets/{train.pk}/",
    ]
    if persona == "anonymous":
        expected = 401
    elif "credit-scoring" in VISIBLE_MODELS[persona]:
        expected = 200
    else:
        expected = 404
    statuses = {url: client.get(url).status_code for url in urls}
    assert statuses == dict.fromkeys(urls, expected)


def test_not_found_does_not_say_whether_the_model_exists(world):
    client = client_for(world.users["outsider"])
    hidden = client.get(f"{API}models/credit-scoring/")
    missing = client.get(f"{API}models/no-such-model/")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
    hidden = client.get(f"{API}versions/{world.version.pk}/")
    missing = client.get(f"{API}versions/{world.version.pk + 1000}/")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


# --- Writes ---------------------------------------------------------------------------


def _create_model(client, world):
    return client.post(f"{API}models/", model_body(name="new-model"), format="json")


def _register_version(client, world):
    train, _ = world.snapshots
    body = {"artifact": artifact_body(), "run": run_body((train, "train"))}
    return client.post(f"{API}models/credit-scoring/versions/", body, format="json")


def _edit_card(client, world):
    return client.put(
        f"{API}versions/{world.version.pk}/card",
        {"caveats": "Edited through the API."},
        format="json",
    )


def _record_evaluation(client, world):
    _, test = world.snapshots
    return client.post(
        f"{API}versions/{world.version.pk}/evaluations",
        evaluation_body(test),
        format="json",
    )


def _change_risk_class(client, world):
    return client.post(
        f"{API}models/credit-scoring/risk-class",
        {"risk_class": "critical", "reason": "Automated decisions."},
        format="json",
    )


def _created_model(world):
    return RegisteredModel.objects.filter(name="new-model").exists()


def _registered_version(world):
    return ModelVersion.objects.filter(model=world.model).count() == 2


def _edited_card(world):
    world.version.card.refresh_from_db()
    return world.version.card.caveats == "Edited through the API."


def _recorded_evaluation(world):
    return Evaluation.objects.filter(version=world.version).count() == 1


def _changed_risk_class(world):
    world.model.refresh_from_db()
    return world.model.risk_class == "critical"


ACTIONS = {
    "create_model": (_create_model, _created_model),
    "register_version": (_register_version, _registered_version),
    "edit_card": (_edit_card, _edited_card),
    "record_evaluation": (_record_evaluation, _recorded_evaluation),
    "change_risk_class": (_change_risk_class, _changed_risk_class),
}

# Status per persona for: create model, register version, edit card, record
# evaluation, change risk class.
EXPECTED = {
    "team_data_scientist": (201, 201, 200, 201, 403),
    # Sees nothing of credit-scoring, and registers only for their own team.
    "other_data_scientist": (400, 404, 404, 404, 404),
    "assigned_reviewer": (403, 403, 403, 403, 403),
    "unassigned_reviewer": (403, 404, 404, 404, 404),
    "assigned_risk_officer": (403, 403, 403, 403, 200),
    "unassigned_risk_officer": (403, 404, 404, 404, 404),
    "validator": (403, 404, 404, 404, 404),
    "auditor": (403, 403, 403, 403, 403),
    "platform_admin": (403, 403, 403, 403, 403),
    "outsider": (403, 404, 404, 404, 404),
    "anonymous": (401, 401, 401, 401, 401),
}

MATRIX = [
    pytest.param(persona, action, EXPECTED[persona][index], id=f"{persona}-{action}")
    for persona in PERSONAS
    for index, action in enumerate(ACTIONS)
]


@pytest.mark.parametrize(("persona", "action", "expected"), MATRIX)
def test_write_permission_matrix(world, persona, action, expected):
    client = client_for(world.users[persona])
    send, happened = ACTIONS[action]
    before = registry_state()
    response = send(client, world)
    assert response.status_code == expected, response.json()
    if expected < 400:
        assert happened(world)
        assert registry_state()["counts"]["audit.AuditEvent"] == before["counts"][
            "audit.AuditEvent"
        ] + (2 if action == "register_version" else 1)
        return
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert (
        body["code"]
        == {
            400: "invalid",
            401: "not_authenticated",
            403: "permission_denied",
            404: "model_not_found"
            if action in {"register_version", "change_risk_class"}
            else "version_not_found",
        }[expected]
    )
    assert not happened(world)
    assert registry_state() == before


def _auditor_writes(world):
    version = world.version.pk
    train, test = world.snapshots
    return [
        ("post", f"{API}models/", model_body(name="audited")),
        ("patch", f"{API}models/credit-scoring/", {"title": "Audited"}),
        (
            "post",
            f"{API}models/credit-scoring/risk-class",
            {"risk_class": "low", "reason": "Audit."},
        ),
        (
            "post",
            f"{API}models/credit-scoring/versions/",
            {"artifact": artifact_body()},
        ),
        ("post", f"{API}models/credit-scoring/runs/", run_body((train, "train"))),
        ("patch", f"{API}versions/{version}/", {"description": "Audited"}),
        ("put", f"{API}versions/{version}/card", {"caveats": "Audited"}),
        ("post", f"{API}versions/{version}/evaluations", evaluation_body(test)),
        (
            "post",
            f"{API}versions/{version}/reproductions",
            {"artifact_sha256": world.version.artifact.sha256},
        ),
        ("post", f"{API}datasets/", dataset_body()),
        ("post", f"{API}models/recommender/versions/", {"artifact": artifact_body()}),
    ]


def test_auditor_reads_everything_and_every_write_is_refused(world):
    client = client_for(world.users["auditor"])
    assert client.get(f"{API}models/recommender/").status_code == 200
    assert client.get(f"{API}versions/{world.other_version.pk}/").status_code == 200
    before = registry_state()
    for method, url, body in _auditor_writes(world):
        response = getattr(client, method)(url, body, format="json")
        assert (url, response.status_code) == (url, 403)
        assert response.json()["code"] == "permission_denied"
    assert registry_state() == before


def test_session_authentication_works_too(world, client):
    client.force_login(world.users["team_data_scientist"])
    assert client.get(f"{API}models/credit-scoring/").status_code == 200
    response = client.patch(
        f"{API}models/credit-scoring/",
        {"title": "Through the browser session"},
        content_type="application/json",
    )
    assert response.status_code == 200
