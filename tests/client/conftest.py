"""Fixtures of the client tests: a small profile spec, a day of predictions to
profile, and one local SparkSession for the whole test session.

Spark needs Java. Where ``java`` is missing the Spark tests are skipped with a
message saying so, except where ``GATEHOUSE_REQUIRE_SPARK=1`` (set by .ci/run,
which installs Debian's Java): there a missing Java fails them.
"""

import logging
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from gatehouse_client.profile import (
    FLOAT_RTOL,
    CategoricalProfile,
    NumericProfile,
    ProfileSpec,
)

START = datetime(2026, 1, 31, 10, tzinfo=UTC)
REGIONS = ["north", "south", "east"]


def make_spec(*, version=2, reference=None) -> ProfileSpec:
    """income and age numeric, region categorical, sex a segment, binary task."""
    rng = np.random.default_rng(7)
    return ProfileSpec(
        features={
            "income": NumericProfile.from_reference(rng.normal(50_000, 10_000, 2000)),
            "age": NumericProfile.from_reference(rng.integers(18, 90, 2000)),
            "region": CategoricalProfile.from_reference(
                rng.choice(REGIONS, 2000, p=[0.5, 0.3, 0.2])
            ),
        },
        segments=("sex",),
        task="binary_classification",
        decision_threshold=0.5,
        version=version,
        reference=reference,
    )


def make_predictions(rows=900, *, hours=3, seed=0, start=START) -> pd.DataFrame:
    """Predictions over ``hours`` hours: missing values, an unseen category, a
    column the spec does not name, labels and a segment attribute."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, hours * 3600, rows)
    income = rng.normal(52_000, 11_000, rows)
    income[rng.random(rows) < 0.05] = np.nan
    region = rng.choice([*REGIONS, "west", None], rows, p=[0.4, 0.3, 0.2, 0.05, 0.05])
    score = rng.random(rows)
    return pd.DataFrame(
        {
            "timestamp": [start + timedelta(seconds=int(s)) for s in seconds],
            "prediction_id": [f"p{index}" for index in range(rows)],
            "income": income,
            "age": rng.integers(18, 90, rows),
            "region": region,
            "score": score,
            "latency_ms": rng.gamma(2.0, 20.0, rows),
            "label": (rng.random(rows) < score).astype("int64"),
            "sex": rng.choice(["female", "male"], rows),
            "not_in_spec": rng.random(rows),
        }
    )


def assert_same_windows(expected, actual):
    """The same window profiles: the same hours, and per hour every count,
    missing count, category, minimum and maximum exactly; floating-point sums
    (numeric offsets, mean, M2, Brier and error sums) within ``FLOAT_RTOL``."""
    assert [window.hour for window in actual] == [window.hour for window in expected]
    for left, right in zip(expected, actual, strict=True):
        assert left.differences(right, rtol=FLOAT_RTOL) == []
        assert left.rows == right.rows
        for name, profile in left.features.items():
            a, b = profile.to_dict(), right.features[name].to_dict()
            assert a["counts"] == b["counts"], name
            assert a["missing"] == b["missing"], name
            assert (a.get("min"), a.get("max")) == (b.get("min"), b.get("max")), name
        exact = {
            key: value for key, value in left.outcomes.items() if isinstance(value, int)
        }
        assert exact == {key: right.outcomes[key] for key in exact}
        assert left.segments == right.segments


@pytest.fixture
def spec():
    return make_spec()


@pytest.fixture
def predictions():
    return make_predictions()


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession (2 cores) for every Spark test of the session."""
    if shutil.which("java") is None:
        if os.environ.get("GATEHOUSE_REQUIRE_SPARK") == "1":
            pytest.fail(
                "Java is missing, and GATEHOUSE_REQUIRE_SPARK=1 (CI) needs Spark"
            )
        pytest.skip(
            "Spark tests need Java, which is missing here: "
            "apt-get install -y default-jre-headless (.ci/run does)"
        )
    from pyspark.sql import SparkSession

    # py4j logs its shutdown at INFO after pytest has closed the streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    # Spark's Python workers run this interpreter (with the client installed).
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("gatehouse-client-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "512m")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
