from datetime import UTC, datetime

import pytest

from models_registry import services
from models_registry.checklist import FAIL, NOT_APPLICABLE, PASS
from models_registry.selectors import version_detail
from tests.models_registry import factories

pytestmark = pytest.mark.django_db


def _items(actor, version):
    detail = version_detail(actor=actor, id=version.pk)
    return {item.id: item for item in detail.checklist}, detail


def test_a_complete_version_passes_every_item(data_scientist, credit_model):
    version = factories.make_passing_version(data_scientist, credit_model)
    items, detail = _items(data_scientist, version)
    assert {item_id: item.status for item_id, item in items.items()} == {
        "success_metrics_defined": PASS,
        "lineage_recorded": PASS,
        "reproducibility_verified": PASS,
        "offline_metrics_met": PASS,
        "fairness_slices": PASS,
        "no_leakage": PASS,
        "model_card_complete": PASS,
        "artifact_pinned": PASS,
        "online_metrics_defined": PASS,
    }
    assert [heading["status"] for heading in detail.review] == [PASS] * 5
    assert "largest gap 0.020" in items["fairness_slices"].reason


def test_a_bare_version_fails_with_reasons(data_scientist, credit_model):
    version = factories.make_version(data_scientist, credit_model, card={})
    items, detail = _items(data_scientist, version)
    assert (
        items["lineage_recorded"].reason == "No training run is linked to the version."
    )
    assert items["offline_metrics_met"].reason == "No evaluation on the test split."
    assert items["reproducibility_verified"].status == FAIL
    assert items["model_card_complete"].reason.startswith(
        "Empty: intended use, out of scope uses"
    )
    assert detail.is_checklist_passed is False


def _version_with(
    actor, model, *, train, held_out, metrics=None, slices=None, split="test"
):
    run = factories.make_run(actor, model, inputs=[(train, "train")])
    version = factories.make_version(actor, model, run=run)
    services.evaluation_record(
        actor=actor,
        version=version,
        split=split,
        dataset=held_out,
        metrics=metrics or {"auc": 0.8},
        slices=slices
        if slices is not None
        else [
            {"attribute": "sex", "group": "f", "size": 10, "metrics": {"auc": 0.8}},
            {"attribute": "sex", "group": "m", "size": 10, "metrics": {"auc": 0.8}},
        ],
    )
    return version


def test_leakage_same_snapshot_for_training_and_test(data_scientist, credit_model):
    snapshot = factories.make_snapshot(
        data_scientist, credit_model.team, name="loans-all"
    )
    version = _version_with(
        data_scientist, credit_model, train=snapshot, held_out=snapshot
    )
    items, _ = _items(data_scientist, version)
    assert items["no_leakage"].status == FAIL
    assert items["no_leakage"].reason == (
        "loans-all is used both for training and for validation or test."
    )


def test_leakage_test_data_starting_before_training_ends(data_scientist, credit_model):
    team = credit_model.team
    train = factories.make_snapshot(
        data_scientist,
        team,
        start=datetime(2020, 1, 1, tzinfo=UTC),
        end=datetime(2023, 6, 30, tzinfo=UTC),
    )
    test = factories.make_snapshot(
        data_scientist,
        team,
        name="loans-test",
        start=datetime(2023, 1, 1, tzinfo=UTC),
        end=datetime(2023, 12, 31, tzinfo=UTC),
    )
    version = _version_with(data_scientist, credit_model, train=train, held_out=test)
    items, _ = _items(data_scientist, version)
    assert items["no_leakage"].status == FAIL
    assert (
        "loans-test starts 2023-01-01 00:00, before training data ends 2023-06-30"
        in (items["no_leakage"].reason)
    )


def test_out_of_time_data_after_training_passes(data_scientist, credit_model):
    team = credit_model.team
    train = factories.make_snapshot(
        data_scientist,
        team,
        start=datetime(2020, 1, 1, tzinfo=UTC),
        end=datetime(2022, 1, 1, tzinfo=UTC),
    )
    oot = factories.make_snapshot(
        data_scientist,
        team,
        start=datetime(2022, 1, 2, tzinfo=UTC),
        end=datetime(2022, 6, 1, tzinfo=UTC),
    )
    version = _version_with(
        data_scientist, credit_model, train=train, held_out=oot, split="out_of_time"
    )
    items, _ = _items(data_scientist, version)
    assert items["no_leakage"].status == PASS


def test_offline_metric_below_threshold_fails(data_scientist, credit_model):
    team = credit_model.team
    version = _version_with(
        data_scientist,
        credit_model,
        train=factories.make_snapshot(data_scientist, team),
        held_out=factories.make_snapshot(data_scientist, team),
        metrics={"auc": 0.7},
    )
    items, _ = _items(data_scientist, version)
    assert items["offline_metrics_met"].reason == "auc = 0.7 is below 0.75."


def test_lower_is_better_metrics(data_scientist, team):
    model = factories.make_model(
        data_scientist,
        team,
        offline_success_metrics=[
            {"metric": "brier", "direction": "lower", "threshold": 0.2}
        ],
    )
    version = _version_with(
        data_scientist,
        model,
        train=factories.make_snapshot(data_scientist, team),
        held_out=factories.make_snapshot(data_scientist, team),
        metrics={"brier": 0.25},
    )
    items, _ = _items(data_scientist, version)
    assert items["offline_metrics_met"].reason == "brier = 0.25 is above 0.2."


def test_fairness_disparity_over_the_limit_fails(data_scientist, credit_model):
    team = credit_model.team
    version = _version_with(
        data_scientist,
        credit_model,
        train=factories.make_snapshot(data_scientist, team),
        held_out=factories.make_snapshot(data_scientist, team),
        slices=[
            {
                "attribute": "sex",
                "group": "female",
                "size": 50,
                "metrics": {"auc": 0.70, "tpr": 0.6},
            },
            {
                "attribute": "sex",
                "group": "male",
                "size": 50,
                "metrics": {"auc": 0.82, "tpr": 0.61},
            },
            {"attribute": "age", "group": "young", "size": 50, "metrics": {"auc": 0.5}},
            {"attribute": "age", "group": "old", "size": 50, "metrics": {"auc": 0.9}},
        ],
    )
    items, detail = _items(data_scientist, version)
    assert items["fairness_slices"].status == FAIL
    # age is not a declared protected attribute of the model: only sex counts
    assert items["fairness_slices"].reason == (
        "auc differs by 0.120 between sex=male and female; the limit is 0.05."
    )
    worst = detail.disparities[detail.evaluations[0].pk][0]
    assert (worst.attribute, worst.metric) == ("age", "auc")


def test_missing_slices_fail_for_high_risk(data_scientist, credit_model):
    team = credit_model.team
    version = _version_with(
        data_scientist,
        credit_model,
        train=factories.make_snapshot(data_scientist, team),
        held_out=factories.make_snapshot(data_scientist, team),
        slices=[],
    )
    items, _ = _items(data_scientist, version)
    assert (
        items["fairness_slices"].reason == "No slices for sex in the test evaluation."
    )


def test_fairness_not_applicable_for_low_risk_without_attributes(data_scientist, team):
    model = factories.make_model(
        data_scientist, team, risk_class="low", fairness_attributes=[]
    )
    version = factories.make_version(data_scientist, model)
    items, _ = _items(data_scientist, version)
    assert items["fairness_slices"].status == NOT_APPLICABLE
    assert items["fairness_slices"].is_passed


def test_high_risk_without_declared_attributes_fails(data_scientist, team):
    model = factories.make_model(data_scientist, team, fairness_attributes=[])
    version = factories.make_version(data_scientist, model)
    items, _ = _items(data_scientist, version)
    assert items["fairness_slices"].reason == (
        "High risk models must name the protected attributes their slices cover."
    )


def test_failed_reproduction_and_unpinned_artifact(data_scientist, credit_model):
    version = factories.make_version(
        data_scientist,
        credit_model,
        artifact={"preprocessing_code_version": "", "feature_spec": []},
    )
    services.reproduction_check_record(
        actor=data_scientist,
        version=version,
        artifact_sha256=factories.digest("different"),
    )
    items, _ = _items(data_scientist, version)
    assert items["reproducibility_verified"].status == FAIL
    assert "artifact_sha256" in items["reproducibility_verified"].details
    assert items["artifact_pinned"].reason == (
        "The artifact has no preprocessing code version and no feature spec."
    )


def test_version_detail_runs_a_fixed_number_of_queries(
    data_scientist, credit_model, django_assert_max_num_queries
):
    version = factories.make_passing_version(data_scientist, credit_model)
    snapshot = factories.make_snapshot(data_scientist, credit_model.team)
    for split in ("validation", "out_of_time", "train"):
        services.evaluation_record(
            actor=data_scientist,
            version=version,
            split=split,
            dataset=snapshot,
            metrics={"auc": 0.8},
            slices=[
                {
                    "attribute": "sex",
                    "group": str(n),
                    "size": 5,
                    "metrics": {"auc": 0.8},
                }
                for n in range(20)
            ],
        )
    for _ in range(5):
        services.reproduction_check_record(
            actor=data_scientist,
            version=version,
            artifact_sha256=version.artifact.sha256,
        )
    data_scientist.__dict__.pop("_gatehouse_model_permissions", None)
    with django_assert_max_num_queries(9):
        version_detail(actor=data_scientist, id=version.pk)
