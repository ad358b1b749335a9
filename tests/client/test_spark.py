"""Spark: partial profiles per partition, merged per window on the cluster,
equal to the pandas profiles of the same rows (2 and 4 partitions, shuffled).

One local SparkSession serves the whole test session (the ``spark`` fixture);
these tests run in one xdist group so that only one worker starts it.
"""

import pyarrow as pa
import pytest
from gatehouse_client.frames import profile_pandas
from gatehouse_client.profile import ProfileInvalid
from gatehouse_client.spark import profile_spark, window_profiles

from tests.client.conftest import assert_same_windows, make_predictions

pytestmark = pytest.mark.xdist_group("spark")


def spark_frame(spark, predictions):
    return spark.createDataFrame(
        pa.Table.from_pandas(predictions, preserve_index=False)
    )


@pytest.mark.parametrize(
    ("partitions", "shuffled"),
    [(2, False), (4, True)],
    ids=["2-partitions", "4-shuffled"],
)
def test_spark_profiles_equal_pandas_profiles(spark, spec, partitions, shuffled):
    predictions = make_predictions(600, hours=3)
    expected = profile_pandas(predictions, spec)
    rows = predictions.sample(frac=1, random_state=5) if shuffled else predictions
    frame = spark_frame(spark, rows).repartition(partitions)
    assert frame.rdd.getNumPartitions() == partitions
    windows = profile_spark(frame, spec)
    assert len(windows) == 3
    assert_same_windows(expected, windows)


def test_the_driver_receives_one_profile_per_window(spark, spec):
    """The merged frame holds one row per hour (never rows of data): that is
    all the driver collects."""
    predictions = make_predictions(400, hours=2, seed=4).rename(
        columns={"timestamp": "scored_at"}
    )
    frame = spark_frame(spark, predictions).repartition(3)
    merged = window_profiles(frame, spec, window="scored_at").toArrow()
    assert merged.num_rows == 2
    assert merged.column_names == ["hour", "profile"]
    windows = profile_spark(frame, spec, window="scored_at")
    assert [window.rows for window in windows] == [
        len(group)
        for _, group in predictions.groupby(predictions.scored_at.dt.floor("h"))
    ]
    assert sum(window.rows for window in windows) == 400


def test_a_missing_feature_is_refused_before_spark_runs(spark, spec):
    frame = spark_frame(spark, make_predictions(10).drop(columns=["income"]))
    with pytest.raises(ProfileInvalid) as refused:
        profile_spark(frame, spec)
    assert set(refused.value.fields) == {"income"}
