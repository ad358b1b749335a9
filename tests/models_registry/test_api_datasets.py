"""The API of dataset snapshots and training runs."""

from datetime import UTC, datetime

import pytest

from audit.models import AuditEvent
from models_registry import services
from models_registry.models import DatasetSnapshot, TrainingRun
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    client_for,
    dataset_body,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
    registry_state,
    run_body,
)

pytestmark = pytest.mark.django_db


def test_records_a_dataset_snapshot(data_scientist, team):
    parent = factories.make_snapshot(data_scientist, team)
    body = dataset_body(
        time_column="",
        time_range_start="2024-01-01T00:00:00Z",
        time_range_end="2024-06-30T00:00:00Z",
        parents=[parent.pk],
    )
    client = client_for(data_scientist)
    response = client.post(f"{API}datasets/", body, format="json")
    assert response.status_code == 201, response.json()
    snapshot = DatasetSnapshot.objects.get(sha256=body["sha256"])
    data = response.json()
    assert data == {
        "id": snapshot.pk,
        "team": "credit-risk",
        "name": body["name"],
        "uri": body["uri"],
        "sha256": body["sha256"],
        "row_count": 5000,
        "schema": body["schema"],
        "time_column": "",
        "time_range_start": "2024-01-01T00:00:00Z",
        "time_range_end": "2024-06-30T00:00:00Z",
        "pii_columns": [{"column": "email", "handling": "tokenised"}],
        "parents": [parent.pk],
        "created_at": data["created_at"],
    }
    assert snapshot.time_range_end == datetime(2024, 6, 30, tzinfo=UTC)
    event = AuditEvent.objects.get(
        action="dataset.recorded", target_id=str(snapshot.pk)
    )
    assert event.payload["parents"] == [parent.pk]
    assert client.get(f"{API}datasets/{snapshot.pk}/").json() == data


def test_same_sha256_again_answers_200_with_the_first(data_scientist, team):
    client = client_for(data_scientist)
    body = dataset_body()
    first = client.post(f"{API}datasets/", body, format="json")
    before = registry_state()
    again = client.post(
        f"{API}datasets/", {**body, "name": "renamed copy"}, format="json"
    )
    assert again.status_code == 200
    assert again.json() == first.json()
    assert registry_state() == before


def test_same_sha256_with_another_uri_answers_409(data_scientist, team):
    client = client_for(data_scientist)
    body = dataset_body()
    client.post(f"{API}datasets/", body, format="json")
    before = registry_state()
    response = client.post(
        f"{API}datasets/", {**body, "uri": "s3://elsewhere/x.parquet"}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "message": "The dataset snapshot was not recorded.",
        "fields": {
            "sha256": [
                f"Snapshot “{body['name']}” has this sha256 with a different URI "
                "or row count."
            ]
        },
    }
    assert registry_state() == before


def test_dataset_list_filters(data_scientist, team):
    first = factories.make_snapshot(data_scientist, team, name="loans-2023")
    second = factories.make_snapshot(data_scientist, team, name="applications-2024")
    client = client_for(data_scientist)

    def ids(query=""):
        response = client.get(f"{API}datasets/{query}")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [second.pk, first.pk]
    assert ids("?search=LOANS") == [first.pk]
    assert ids(f"?sha256={second.sha256}") == [second.pk]
    assert ids("?team=recommendations") == []
    assert ids("?team=credit-risk") == [second.pk, first.pk]


def test_snapshots_of_other_teams_are_hidden(
    data_scientist, team, other_data_scientist, other_team, auditor
):
    mine = factories.make_snapshot(data_scientist, team)
    theirs = factories.make_snapshot(other_data_scientist, other_team)
    client = client_for(data_scientist)
    listed = [row["id"] for row in client.get(f"{API}datasets/").json()["results"]]
    assert listed == [mine.pk]
    response = client.get(f"{API}datasets/{theirs.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "dataset_not_found"
    audit = client_for(auditor)
    listed = [row["id"] for row in audit.get(f"{API}datasets/").json()["results"]]
    assert listed == [theirs.pk, mine.pk]
    assert audit.get(f"{API}datasets/{theirs.pk}/").status_code == 200


def test_dataset_for_another_team_is_refused(data_scientist, other_team):
    client = client_for(data_scientist)
    before = registry_state()
    response = client.post(
        f"{API}datasets/", dataset_body(team="recommendations"), format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert registry_state() == before


def test_dataset_parents_must_be_visible(
    data_scientist, other_data_scientist, other_team
):
    hidden = factories.make_snapshot(other_data_scientist, other_team)
    client = client_for(data_scientist)
    before = registry_state()
    response = client.post(
        f"{API}datasets/", dataset_body(parents=[hidden.pk, 10**9]), format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "parents": [
            f"No dataset snapshot {hidden.pk}.",
            f"No dataset snapshot {10**9}.",
        ]
    }
    assert registry_state() == before


# --- Runs -----------------------------------------------------------------------------


def test_records_a_run_with_its_inputs(data_scientist, credit_model, team):
    train = factories.make_snapshot(data_scientist, team)
    body = run_body(
        (train, "train"),
        started_at="2025-01-01T10:00:00Z",
        ended_at="2025-01-01T11:00:00Z",
    )
    client = client_for(data_scientist)
    response = client.post(f"{API}models/credit-scoring/runs/", body, format="json")
    assert response.status_code == 201, response.json()
    run = TrainingRun.objects.get()
    data = response.json()
    assert data == {
        "id": run.pk,
        "model": "credit-scoring",
        "external_run_id": body["external_run_id"],
        "code_repository": body["code_repository"],
        "code_commit": body["code_commit"],
        "entrypoint": "train.py",
        "parameters": {"max_depth": 4, "learning_rate": 0.05},
        "environment_lock_hash": body["environment_lock_hash"],
        "random_seed": 7,
        "started_at": "2025-01-01T10:00:00Z",
        "ended_at": "2025-01-01T11:00:00Z",
        "inputs": [
            {
                "snapshot": train.pk,
                "name": train.name,
                "sha256": train.sha256,
                "role": "train",
            }
        ],
        "created_at": data["created_at"],
    }
    assert client.get(f"{API}runs/{run.pk}/").json() == data
    listed = client.get(f"{API}models/credit-scoring/runs/").json()
    assert listed["count"] == 1
    assert listed["results"] == [data]


def test_same_run_again_answers_200_and_another_commit_409(
    data_scientist, credit_model
):
    client = client_for(data_scientist)
    body = run_body()
    first = client.post(f"{API}models/credit-scoring/runs/", body, format="json")
    before = registry_state()
    again = client.post(f"{API}models/credit-scoring/runs/", body, format="json")
    assert (again.status_code, again.json()) == (200, first.json())
    conflict = client.post(
        f"{API}models/credit-scoring/runs/",
        {**body, "code_commit": "abcdef1"},
        format="json",
    )
    assert conflict.status_code == 409
    assert conflict.json()["fields"] == {
        "external_run_id": [
            "A run with this id exists with another commit or environment."
        ]
    }
    assert registry_state() == before


def test_run_of_an_invisible_model_is_404(
    data_scientist, other_data_scientist, other_team
):
    model = factories.make_model(other_data_scientist, other_team, name="recs")
    run = factories.make_run(other_data_scientist, model)
    client = client_for(data_scientist)
    response = client.get(f"{API}runs/{run.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "run_not_found"
    assert client.get(f"{API}models/recs/runs/").status_code == 404


def test_reviewer_sees_the_runs_of_assigned_models(
    data_scientist, credit_model, reviewer, platform_admin
):
    run = factories.make_run(data_scientist, credit_model)
    client = client_for(reviewer)
    assert client.get(f"{API}runs/{run.pk}/").status_code == 404
    services.model_reviewer_assign(
        actor=platform_admin, user=reviewer, model=credit_model
    )
    assert client.get(f"{API}runs/{run.pk}/").status_code == 200
