"""The API of versions: one-call registration, lists, detail, changes."""

from datetime import UTC, datetime

import pytest

from audit.models import AuditEvent
from models_registry.models import ModelVersion, TrainingRun
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    artifact_body,
    audit_count,
    client_for,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
    registry_state,
    run_body,
)

pytestmark = pytest.mark.django_db

VERSIONS = f"{API}models/credit-scoring/versions/"


@pytest.fixture
def snapshots(data_scientist, team):
    train = factories.make_snapshot(
        data_scientist,
        team,
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2023, 12, 31, tzinfo=UTC),
    )
    test = factories.make_snapshot(
        data_scientist,
        team,
        start=datetime(2024, 1, 1, tzinfo=UTC),
        end=datetime(2024, 12, 31, tzinfo=UTC),
    )
    return train, test


def test_registers_a_version_with_its_run_in_one_call(
    data_scientist, credit_model, snapshots
):
    train, test = snapshots
    artifact = artifact_body()
    run = run_body((train, "train"), (test, "test"))
    body = {
        "artifact": artifact,
        "run": run,
        "description": "Boosted trees.",
        "tags": {"stage": "candidate"},
        "semantic_version": "1.0.0",
        "card": {"intended_use": "Score loans.", "limitations": "Thin files."},
    }
    client = client_for(data_scientist)
    before = audit_count()
    response = client.post(VERSIONS, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    version = ModelVersion.objects.get()
    stored_run = TrainingRun.objects.get()
    assert data == {
        "id": version.pk,
        "model": "credit-scoring",
        "version": 1,
        "semantic_version": "1.0.0",
        "status": "registered",
        "description": "Boosted trees.",
        "tags": {"stage": "candidate"},
        "artifact": {"id": version.artifact_id, **artifact},
        "training_run": {
            "id": stored_run.pk,
            "external_run_id": run["external_run_id"],
        },
        "registered_by": "dana",
        "production_approved_at": None,
        "is_card_frozen": False,
        "created_at": data["created_at"],
        "updated_at": data["updated_at"],
    }
    assert version.training_run == stored_run
    assert version.artifact.training_run == stored_run
    assert sorted(
        (item.snapshot_id, item.role) for item in stored_run.run_inputs.all()
    ) == sorted([(train.pk, "train"), (test.pk, "test")])
    assert stored_run.parameters == {"max_depth": 4, "learning_rate": 0.05}
    assert version.card.intended_use == "Score loans."
    assert version.card.revision == 1
    assert [
        event.action for event in AuditEvent.objects.order_by("sequence")[before:]
    ] == ["run.recorded", "version.registered"]


def test_registers_a_version_with_an_existing_run_id(data_scientist, credit_model):
    run = factories.make_run(data_scientist, credit_model)
    client = client_for(data_scientist)
    response = client.post(
        VERSIONS, {"artifact": artifact_body(), "run_id": run.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["training_run"] == {
        "id": run.pk,
        "external_run_id": run.external_run_id,
    }
    assert TrainingRun.objects.count() == 1


def test_registers_a_version_without_a_run(data_scientist, credit_model):
    response = client_for(data_scientist).post(
        VERSIONS, {"artifact": artifact_body()}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["training_run"] is None


def test_sending_the_same_registration_again_returns_the_version(
    data_scientist, credit_model, snapshots
):
    train, _ = snapshots
    body = {"artifact": artifact_body(), "run": run_body((train, "train"))}
    client = client_for(data_scientist)
    first = client.post(VERSIONS, body, format="json")
    assert first.status_code == 201
    before = registry_state()
    second = client.post(VERSIONS, body, format="json")
    assert second.status_code == 200
    assert second.json() == first.json()
    assert registry_state() == before


def test_same_artifact_with_another_run_records_nothing(
    data_scientist, credit_model, snapshots
):
    train, _ = snapshots
    artifact = artifact_body()
    client = client_for(data_scientist)
    first = client.post(
        VERSIONS,
        {"artifact": artifact, "run": run_body((train, "train"))},
        format="json",
    )
    before = registry_state()
    second = client.post(
        VERSIONS,
        {"artifact": artifact, "run": run_body((train, "train"))},
        format="json",
    )
    assert (second.status_code, second.json()["id"]) == (200, first.json()["id"])
    assert registry_state() == before


def test_a_run_recorded_with_a_refused_version_is_rolled_back(
    data_scientist, credit_model, snapshots
):
    """The run is valid and would be written first; the version's description
    holds a secret. Nothing at all may be left behind."""
    train, _ = snapshots
    client = client_for(data_scientist)
    before = registry_state()
    response = client.post(
        VERSIONS,
        {
            "artifact": artifact_body(),
            "run": run_body((train, "train")),
            "description": "creds: AKIAIOSFODNN7EXAMPLE",
        },
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["description"]
    assert registry_state() == before


def test_run_errors_are_prefixed_with_run(data_scientist, credit_model):
    client = client_for(data_scientist)
    before = registry_state()
    response = client.post(
        VERSIONS,
        {"artifact": artifact_body(), "run": run_body(code_commit="not-a-commit")},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "The version was not registered: The training run was not recorded.",
        "fields": {
            "run.code_commit": [
                "Must be a git commit id: 7 to 64 hexadecimal characters."
            ]
        },
    }
    assert registry_state() == before


def test_run_id_and_run_together_are_refused(data_scientist, credit_model):
    run = factories.make_run(data_scientist, credit_model)
    client = client_for(data_scientist)
    before = registry_state()
    response = client.post(
        VERSIONS,
        {"artifact": artifact_body(), "run_id": run.pk, "run": run_body()},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "run": ["Give either “run” or “run_id”, not both."]
    }
    assert registry_state() == before


def test_run_id_of_another_model_is_a_field_error(data_scientist, credit_model, team):
    other = factories.make_model(data_scientist, team, name="other-model")
    run = factories.make_run(data_scientist, other)
    client = client_for(data_scientist)
    before = registry_state()
    response = client.post(
        VERSIONS, {"artifact": artifact_body(), "run_id": run.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "run_id": [f"No training run {run.pk} of this model."]
    }
    assert registry_state() == before


def test_run_inputs_must_be_visible_snapshots(
    data_scientist, credit_model, other_data_scientist, other_team
):
    hidden = factories.make_snapshot(other_data_scientist, other_team)
    client = client_for(data_scientist)
    before = registry_state()
    response = client.post(
        VERSIONS,
        {
            "artifact": artifact_body(),
            "run": run_body(inputs=[{"snapshot": hidden.pk, "role": "train"}]),
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "run.inputs[0].snapshot": [f"No dataset snapshot {hidden.pk}."]
    }
    assert registry_state() == before


def test_version_numbers_follow_each_other(data_scientist, credit_model):
    client = client_for(data_scientist)
    numbers = [
        client.post(VERSIONS, {"artifact": artifact_body()}, format="json").json()[
            "version"
        ]
        for _ in range(3)
    ]
    assert numbers == [1, 2, 3]


def test_model_versions_list_newest_first(data_scientist, credit_model):
    for _ in range(3):
        factories.make_version(data_scientist, credit_model)
    response = client_for(data_scientist).get(VERSIONS)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    assert [row["version"] for row in data["results"]] == [3, 2, 1]


def test_versions_list_filters(data_scientist, credit_model, team):
    churn = factories.make_model(data_scientist, team, name="churn")
    first = factories.make_version(
        data_scientist, credit_model, tags={"stage": "candidate"}
    )
    factories.make_version(data_scientist, credit_model, tags={"stage": "shadow"})
    third = factories.make_version(data_scientist, churn, tags={"stage": "candidate"})
    ModelVersion.objects.filter(pk=third.pk).update(status="approved")
    client = client_for(data_scientist)

    def ids(query):
        response = client.get(f"{API}versions/{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert len(ids("")) == 3
    assert ids("?model=churn") == [third.pk]
    assert ids("?status=approved") == [third.pk]
    assert ids("?tag=stage=candidate") == [third.pk, first.pk]
    assert ids("?tag=stage=candidate&model=credit-scoring") == [first.pk]
    assert ids("?tag=stage=none") == []
    response = client.get(f"{API}versions/?tag=stage&status=gone")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "status": ['"gone" is not a valid choice.'],
        "tag": ["Must be key=value."],
    }


def test_version_detail(data_scientist, credit_model):
    version = factories.make_version(data_scientist, credit_model)
    response = client_for(data_scientist).get(f"{API}versions/{version.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert (data["id"], data["model"], data["version"]) == (
        version.pk,
        "credit-scoring",
        1,
    )
    assert data["artifact"]["sha256"] == version.artifact.sha256


@pytest.mark.parametrize("missing", [0, 999_999, 2**70])
def test_unknown_version_is_404(data_scientist, missing):
    response = client_for(data_scientist).get(f"{API}versions/{missing}/")
    assert response.status_code == 404
    assert response.json()["code"] == "version_not_found"


def test_patch_version_description_and_tags(data_scientist, credit_model):
    version = factories.make_version(data_scientist, credit_model, tags={"a": "1"})
    client = client_for(data_scientist)
    response = client.patch(
        f"{API}versions/{version.pk}/",
        {"description": "Candidate.", "tags": {"a": "2", "b": "x"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["description"], response.json()["tags"]) == (
        "Candidate.",
        {"a": "2", "b": "x"},
    )
    event = AuditEvent.objects.get(action="version.updated")
    assert event.payload == {
        "diff": {
            "description": ["", "Candidate."],
            "tags": [{"a": "1"}, {"a": "2", "b": "x"}],
        }
    }


def test_patch_version_cannot_touch_the_artifact(data_scientist, credit_model):
    version = factories.make_version(data_scientist, credit_model)
    client = client_for(data_scientist)
    before = registry_state()
    response = client.patch(
        f"{API}versions/{version.pk}/",
        {"artifact": {"sha256": "0" * 64}, "version": 9, "tags": ["x"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "tags": ["Must be an object of text to text."],
    }
    response = client.patch(
        f"{API}versions/{version.pk}/",
        {"artifact": {"sha256": "0" * 64}, "version": 9},
        format="json",
    )
    assert response.json()["fields"] == {
        "artifact": ["Unknown field."],
        "version": ["Unknown field."],
    }
    assert registry_state() == before
