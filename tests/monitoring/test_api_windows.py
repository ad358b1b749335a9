"""The windows API shows every statistic of every feature, so an analyst can
reproduce each verdict (issue #14, item 7)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.drift import DriftConfig, evaluate_window
from monitoring.models import FeatureProfile, MonitoringWindow
from monitoring.services.aggregation import load_profile, reference_state_of
from tests.monitoring.batches import (
    check_all,
    hour_ago,
    ingest,
    prediction_rows,
    reference_rows,
    upload_reference,
)

pytestmark = pytest.mark.django_db

WINDOWS = "/api/v1/monitoring/models/credit-scoring/environments/production/windows"


@pytest.fixture
def checked(world):
    upload_reference(world, reference_rows())
    rows = prediction_rows(300, start=hour_ago(3), income_mean=53_000)
    rows[0]["income"] = None
    ingest(world, rows, "b")
    check_all()


def _drift_checks(window: dict) -> dict[str, dict]:
    return {
        check["subject"]: check
        for check in window["checks"]
        if check["check"] == "data_drift"
    }


def test_every_statistic_of_every_feature_is_in_the_window(world, checked):
    [window] = world.client.get(WINDOWS, {"hours": 24}).json()["results"]
    drift = _drift_checks(window)
    assert set(drift) == {"income", "region"}
    income, region = drift["income"], drift["region"]
    assert set(income["details"]["statistics"]) == {
        "wasserstein",
        "wasserstein_distance",
        "reference_std",
        "ks",
        "ks_error_bound",
        "ks_pvalue",
        "jensenshannon",
        "psi",
        "mean_difference",
        "out_of_range_rate",
    }
    assert set(region["details"]["statistics"]) == {
        "chi2",
        "chi2_dof",
        "chi2_pvalue",
        "jensenshannon",
        "psi",
        "unseen_share",
    }
    # A feature that did not alert shows its numbers too.
    assert region["severity"] == "none"
    assert (
        region["details"]["p_value"] == region["details"]["statistics"]["chi2_pvalue"]
    )
    assert income["details"]["current_count"] == 299
    assert income["details"]["current_missing"] == 1
    assert income["details"]["missing_rate"] == pytest.approx(1 / 300)
    assert {check["check"] for check in window["checks"]} >= {
        "data_drift",
        "prediction_drift",
        "skew",
    }


def test_the_verdict_can_be_reproduced_from_what_the_api_shows(world, checked):
    [window] = world.client.get(WINDOWS, {"hours": 24}).json()["results"]
    drift = _drift_checks(window)
    row = MonitoringWindow.objects.get()
    state = reference_state_of(row.reference)
    current = {
        profile.feature: load_profile(profile.profile, state.features[profile.feature])
        for profile in FeatureProfile.objects.filter(window=row)
    }
    for result in evaluate_window(state.features, current, DriftConfig()):
        shown = drift[result.feature]
        assert shown["details"]["method"] == result.method
        assert shown["details"]["statistics"] == pytest.approx(result.statistics)
        assert shown["details"]["corrected_p_value"] == pytest.approx(
            result.corrected_p_value
        )
        assert shown["score"] == pytest.approx(result.score)
        assert (shown["threshold"], shown["details"]["critical_threshold"]) == (
            result.warning_threshold,
            result.critical_threshold,
        )
        assert shown["severity"] == result.severity


def test_an_unchecked_window_has_no_checks_yet(world):
    ingest(world, prediction_rows(30, start=hour_ago(3)), "b")
    [window] = world.client.get(WINDOWS, {"hours": 24}).json()["results"]
    assert (window["checked_at"], window["checks"]) == (None, [])


def test_the_windows_list_makes_a_fixed_number_of_queries(world, checked):
    ingest(world, prediction_rows(300, start=hour_ago(2), seed=3), "c")
    ingest(world, prediction_rows(300, start=hour_ago(1), seed=4), "d")
    check_all()
    world.client.get(WINDOWS)  # the token's first use is recorded once
    counts = []
    for hours in (2, 24):
        with CaptureQueriesContext(connection) as queries:
            response = world.client.get(WINDOWS, {"hours": hours})
        assert response.status_code == 200
        counts.append((len(response.json()["results"]), len(queries)))
    (few, few_queries), (many, many_queries) = counts
    assert (few, many) == (1, 3)
    assert few_queries == many_queries
