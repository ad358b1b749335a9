"""The API of what hangs off a version: checklist, card, evaluations,
reproduction checks."""

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from models_registry import services
from models_registry.models import (
    Evaluation,
    FairnessSlice,
    ModelVersion,
    ReproductionCheck,
)
from tests.models_registry import factories
from tests.models_registry.api_helpers import (
    API,
    client_for,
    evaluation_body,
    fast_password_hashing,  # noqa: F401 (an autouse fixture)
    registry_state,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(data_scientist, credit_model):
    return factories.make_version(data_scientist, credit_model)


# --- Checklist ------------------------------------------------------------------------


def test_checklist_of_a_passing_version(data_scientist, credit_model):
    version = factories.make_passing_version(data_scientist, credit_model)
    response = client_for(data_scientist).get(f"{API}versions/{version.pk}/checklist")
    assert response.status_code == 200
    data = response.json()
    assert (data["version"], data["model"], data["is_passed"]) == (
        version.pk,
        "credit-scoring",
        True,
    )
    assert [(item["id"], item["stage"], item["status"]) for item in data["items"]] == [
        ("success_metrics_defined", 1, "pass"),
        ("lineage_recorded", 2, "pass"),
        ("reproducibility_verified", 2, "pass"),
        ("offline_metrics_met", 3, "pass"),
        ("fairness_slices", 3, "pass"),
        ("no_leakage", 3, "pass"),
        ("model_card_complete", 3, "pass"),
        ("artifact_pinned", 4, "pass"),
        ("online_metrics_defined", 5, "pass"),
    ]
    assert set(data["items"][0]) == {
        "id",
        "stage",
        "title",
        "status",
        "reason",
        "details",
    }
    fairness = data["items"][4]
    assert fairness["details"]["threshold"] == 0.05
    assert fairness["details"]["disparities"][0]["attribute"] == "sex"
    assert [(head["id"], head["status"]) for head in data["review"]] == [
        ("offline_metrics_aligned", "pass"),
        ("reproducibility", "pass"),
        ("packaging", "pass"),
        ("monitoring", "pass"),
        ("governance", "pass"),
    ]
    assert data["review"][1] == {
        "id": "reproducibility",
        "title": "Data and code reproducibility",
        "status": "pass",
        "items": ["lineage_recorded", "reproducibility_verified", "no_leakage"],
    }


def test_checklist_says_why_a_bare_version_fails(data_scientist, version):
    data = (
        client_for(data_scientist).get(f"{API}versions/{version.pk}/checklist").json()
    )
    statuses = {item["id"]: (item["status"], item["reason"]) for item in data["items"]}
    assert data["is_passed"] is False
    assert statuses["offline_metrics_met"] == (
        "fail",
        "No evaluation on the test split.",
    )
    assert statuses["model_card_complete"][0] == "pass"
    review = {head["id"]: head["status"] for head in data["review"]}
    assert review["offline_metrics_aligned"] == "fail"


# --- Card -----------------------------------------------------------------------------


def test_card_read(data_scientist, version):
    response = client_for(data_scientist).get(f"{API}versions/{version.pk}/card")
    assert response.status_code == 200
    data = response.json()
    assert data == {
        "version": version.pk,
        "revision": 1,
        "is_frozen": False,
        "is_complete": True,
        **factories.FULL_CARD,
        "updated_at": data["updated_at"],
        "updated_by": "dana",
    }


def test_card_put_changes_the_fields_sent_and_adds_a_revision(data_scientist, version):
    client = client_for(data_scientist)
    response = client.put(
        f"{API}versions/{version.pk}/card",
        {"caveats": "Recalibrate every quarter.", "users": ""},
        format="json",
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["revision"], data["caveats"], data["users"], data["is_complete"]) == (
        2,
        "Recalibrate every quarter.",
        "",
        False,
    )
    assert data["intended_use"] == factories.FULL_CARD["intended_use"]
    event = AuditEvent.objects.get(action="card.updated")
    assert event.payload == {
        "revision": 2,
        "diff": {
            "caveats": ["Recalibrate yearly.", "Recalibrate every quarter."],
            "users": ["Credit officers.", ""],
        },
    }
    revisions = client.get(f"{API}versions/{version.pk}/card/revisions").json()
    assert revisions["count"] == 2
    assert [row["revision"] for row in revisions["results"]] == [2, 1]
    assert revisions["results"][0]["content"]["caveats"] == "Recalibrate every quarter."
    assert revisions["results"][1]["content"] == factories.FULL_CARD
    assert revisions["results"][0]["edited_by"] == "dana"


def test_card_put_without_changes_adds_no_revision(data_scientist, version):
    client = client_for(data_scientist)
    before = registry_state()
    response = client.put(
        f"{API}versions/{version.pk}/card",
        {"caveats": factories.FULL_CARD["caveats"]},
        format="json",
    )
    assert (response.status_code, response.json()["revision"]) == (200, 1)
    assert registry_state() == before


def test_frozen_card_answers_409(data_scientist, version):
    ModelVersion.objects.filter(pk=version.pk).update(
        status="approved", production_approved_at=timezone.now()
    )
    client = client_for(data_scientist)
    assert client.get(f"{API}versions/{version.pk}/card").json()["is_frozen"] is True
    before = registry_state()
    response = client.put(
        f"{API}versions/{version.pk}/card", {"caveats": "Changed."}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "card_frozen",
        "message": "The model card is frozen: this version is approved for production.",
        "fields": {},
    }
    assert registry_state() == before


def test_card_put_from_an_old_revision_answers_409(data_scientist, version):
    client = client_for(data_scientist)
    url = f"{API}versions/{version.pk}/card"
    first = client.put(url, {"caveats": "Mine.", "base_revision": 1}, format="json")
    assert (first.status_code, first.json()["revision"]) == (200, 2)
    before = registry_state()
    stale = client.put(url, {"caveats": "Theirs.", "base_revision": 1}, format="json")
    assert stale.status_code == 409
    assert stale.json() == {
        "code": "card_revision_conflict",
        "message": "Someone else saved revision 2 while you were editing revision 1.",
        "fields": {"base_revision": ["The card is at revision 2."]},
    }
    assert registry_state() == before


def test_card_put_refuses_unknown_fields_and_non_text(data_scientist, version):
    client = client_for(data_scientist)
    before = registry_state()
    response = client.put(
        f"{API}versions/{version.pk}/card",
        {"intended_usage": "typo", "caveats": 3},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"caveats": ["Must be text."]}
    response = client.put(
        f"{API}versions/{version.pk}/card", {"intended_usage": "typo"}, format="json"
    )
    assert response.json()["fields"] == {"intended_usage": ["Unknown field."]}
    assert registry_state() == before


# --- Evaluations ----------------------------------------------------------------------


def test_records_an_evaluation_with_slices_and_computed_disparities(
    data_scientist, team, version
):
    dataset = factories.make_snapshot(data_scientist, team)
    body = evaluation_body(
        dataset,
        slices=[
            {
                "attribute": "sex",
                "group": "female",
                "size": 40,
                "metrics": {"auc": 0.7, "tpr": 0.6},
            },
            {
                "attribute": "sex",
                "group": "male",
                "size": 60,
                "metrics": {"auc": 0.8, "tpr": 0.62},
            },
            {
                "attribute": "age",
                "group": "young",
                "size": 30,
                "metrics": {"auc": 0.78},
            },
            {"attribute": "age", "group": "old", "size": 70, "metrics": {"auc": 0.76}},
        ],
    )
    client = client_for(data_scientist)
    response = client.post(
        f"{API}versions/{version.pk}/evaluations", body, format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    evaluation = Evaluation.objects.get()
    assert data["id"] == evaluation.pk
    assert (data["version"], data["split"], data["metrics"]) == (
        version.pk,
        "test",
        {"auc": 0.8, "ks": 0.4},
    )
    assert data["dataset"] == {
        "id": dataset.pk,
        "name": dataset.name,
        "sha256": dataset.sha256,
    }
    assert [(s["attribute"], s["group"], s["size"]) for s in data["slices"]] == [
        ("age", "old", 70),
        ("age", "young", 30),
        ("sex", "female", 40),
        ("sex", "male", 60),
    ]
    disparities = [
        (
            d["attribute"],
            d["metric"],
            d["worst_group"],
            d["best_group"],
            round(d["gap"], 6),
            d["is_within_threshold"],
        )
        for d in data["disparities"]
    ]
    assert disparities == [
        ("sex", "auc", "female", "male", 0.1, False),
        ("age", "auc", "old", "young", 0.02, True),
        ("sex", "tpr", "female", "male", 0.02, True),
    ]
    assert FairnessSlice.objects.filter(evaluation=evaluation).count() == 4
    listed = client.get(f"{API}versions/{version.pk}/evaluations").json()
    assert listed["count"] == 1
    assert listed["results"][0] == data


def test_evaluation_dataset_must_be_visible(
    data_scientist, version, other_data_scientist, other_team
):
    hidden = factories.make_snapshot(other_data_scientist, other_team)
    client = client_for(data_scientist)
    before = registry_state()
    response = client.post(
        f"{API}versions/{version.pk}/evaluations",
        evaluation_body(hidden),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "dataset": [f"No dataset snapshot {hidden.pk}."]
    }
    assert registry_state() == before


def test_evaluation_slice_errors_name_the_slice(data_scientist, team, version):
    dataset = factories.make_snapshot(data_scientist, team)
    client = client_for(data_scientist)
    before = registry_state()
    body = evaluation_body(
        dataset,
        split="holdout",
        slices=[
            {"attribute": "sex", "group": "female", "size": 40, "metrics": {}},
            {"attribute": "sex", "group": "male", "size": -1, "metrics": {"auc": "x"}},
        ],
    )
    response = client.post(
        f"{API}versions/{version.pk}/evaluations", body, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "split": ['"holdout" is not a valid choice.'],
        "slices[1].size": ["Ensure this value is greater than or equal to 0."],
        "slices[1].metrics.auc": ["Must be a finite number."],
    }
    assert registry_state() == before


def test_evaluation_duplicate_slices_are_refused_by_the_service(
    data_scientist, team, version
):
    dataset = factories.make_snapshot(data_scientist, team)
    client = client_for(data_scientist)
    before = registry_state()
    slice_ = {"attribute": "sex", "group": "male", "size": 5, "metrics": {}}
    response = client.post(
        f"{API}versions/{version.pk}/evaluations",
        evaluation_body(dataset, slices=[slice_, slice_]),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"slices[1]": ["sex=male appears twice."]}
    assert registry_state() == before


# --- Reproductions --------------------------------------------------------------------


def test_reproduction_with_the_same_hash_passes(data_scientist, version):
    client = client_for(data_scientist)
    response = client.post(
        f"{API}versions/{version.pk}/reproductions",
        {"artifact_sha256": version.artifact.sha256, "external_run_id": "rerun-1"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    check = ReproductionCheck.objects.get()
    assert data == {
        "id": check.pk,
        "version": version.pk,
        "external_run_id": "rerun-1",
        "artifact_sha256": version.artifact.sha256,
        "metrics": {},
        "mode": "exact_hash",
        "is_passed": True,
        "differences": {},
        "checked_by": "dana",
        "created_at": data["created_at"],
    }
    listed = client.get(f"{API}versions/{version.pk}/reproductions").json()
    assert [row["id"] for row in listed["results"]] == [check.pk]


def test_reproduction_with_another_hash_fails_with_the_difference(
    data_scientist, version
):
    other = factories.digest("rerun")
    response = client_for(data_scientist).post(
        f"{API}versions/{version.pk}/reproductions",
        {"artifact_sha256": other},
        format="json",
    )
    assert response.status_code == 201
    assert (response.json()["is_passed"], response.json()["differences"]) == (
        False,
        {"artifact_sha256": {"original": version.artifact.sha256, "rerun": other}},
    )


def test_reproduction_within_metric_tolerance(data_scientist, team):
    model = factories.make_model(
        data_scientist,
        team,
        name="tolerant",
        reproducibility_tolerance={"mode": "metrics", "tolerances": {"auc": 0.01}},
    )
    version = factories.make_version(data_scientist, model)
    dataset = factories.make_snapshot(data_scientist, team)
    services.evaluation_record(
        actor=data_scientist,
        version=version,
        split="test",
        dataset=dataset,
        metrics={"auc": 0.80},
    )
    response = client_for(data_scientist).post(
        f"{API}versions/{version.pk}/reproductions",
        {"artifact_sha256": factories.digest("different"), "metrics": {"auc": 0.805}},
        format="json",
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["mode"], data["is_passed"]) == ("metrics", True)
    assert data["differences"]["metrics"]["auc"]["within"] is True


def test_disparities_follow_the_declared_metric_direction_in_the_api_too(
    data_scientist, team, version
):
    """A metric the model declares "lower is better" (and whose name does not say
    so) ranks groups the same way in the API as on the page and the checklist."""
    from models_registry.fairness import fairness_disparities, metric_directions

    model = version.model
    model.offline_success_metrics = [
        {"metric": "denials", "direction": "lower", "threshold": 0.3}
    ]
    model.save(update_fields=["offline_success_metrics"])
    dataset = factories.make_snapshot(data_scientist, team)
    slices = [
        {
            "attribute": "sex",
            "group": "female",
            "size": 40,
            "metrics": {"denials": 0.4},
        },
        {"attribute": "sex", "group": "male", "size": 60, "metrics": {"denials": 0.2}},
    ]
    client = client_for(data_scientist)
    url = f"{API}versions/{version.pk}/evaluations"
    created = client.post(url, evaluation_body(dataset, slices=slices), format="json")
    assert created.status_code == 201, created.json()
    [disparity] = created.json()["disparities"]
    assert (disparity["worst_group"], disparity["best_group"]) == ("female", "male")
    [listed] = client.get(url).json()["results"][0]["disparities"]
    assert listed == disparity
    evaluation = Evaluation.objects.get()
    [page] = fairness_disparities(evaluation.slices.all(), metric_directions(model))
    assert (page.worst_group, page.best_group) == ("female", "male")
