# ruff: noqa: F811 - the monitoring world fixtures are imported by name
"""The same predictions pushed as rows, as pandas profiles and as Spark profiles
(2 and 4 partitions, shuffled rows) give the same windows and the same verdicts.

Counts, missing counts, categories, minima, maxima and every check's status
and severity are identical; floating-point sums (offsets, mean, M2, Brier
sums) are equal within the library's FLOAT_RTOL (1e-9 relative), as they are
added in another order (docs/profiles.md, Tolerance).
"""

import pandas as pd
import pyarrow as pa
import pytest
from gatehouse_client.frames import profile_pandas
from gatehouse_client.profile import (
    ProfileSpec,
    encode_json,
    profiles_document,
)
from gatehouse_client.spark import profile_spark

from monitoring.models import MonitoringWindow
from tests.monitoring.batches import (
    hour_ago,
    ingest,
    prediction_rows,
    reference_rows,
    upload_reference,
)
from tests.monitoring.conftest import _world_ids, world  # noqa: F401 - fixtures
from tests.monitoring.test_profile_ingestion import (
    PROFILES,
    SPEC,
    _assert_close,
    _forget_windows,
    _verdicts,
    _window_state,
)

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("spark")]


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def _states() -> list[dict]:
    return [_window_state(w) for w in MonitoringWindow.objects.order_by("start")]


def _push(world, capture, windows, spec, batch_id):
    document = profiles_document(windows, batch_id=batch_id, spec=spec)
    with capture(execute=True):
        response = world.client.generic(
            "POST", PROFILES, encode_json(document), content_type="application/json"
        )
    assert response.status_code == 202, response.json()


def test_rows_pandas_and_spark_profiles_give_the_same_windows_and_verdicts(
    world, spark, django_capture_on_commit_callbacks
):
    upload_reference(world, reference_rows(500))
    # Two hours of predictions with drifted incomes, labels and a segment.
    rows = prediction_rows(
        300, start=hour_ago(5), labels=True, income_mean=58_000, prefix="a"
    ) + prediction_rows(200, start=hour_ago(4), labels=True, seed=2, prefix="b")
    ingest(world, rows, "rows-1")
    by_rows, verdicts = _states(), _verdicts()
    assert len(by_rows) == 2
    assert verdicts
    _forget_windows()

    spec = ProfileSpec.from_dict(world.client.get(SPEC).json())
    frame = _frame(rows).drop(columns=["prediction_id"])
    shuffled = frame.sample(frac=1, random_state=11)
    arrow = pa.Table.from_pandas(shuffled, preserve_index=False)
    ways = {
        "pandas": lambda: profile_pandas(shuffled, spec, chunk_rows=128),
        "spark, 2 partitions": lambda: profile_spark(
            spark.createDataFrame(pa.Table.from_pandas(frame)).repartition(2), spec
        ),
        "spark, 4 partitions, shuffled": lambda: profile_spark(
            spark.createDataFrame(arrow).repartition(4), spec
        ),
    }
    for index, (way, profile) in enumerate(ways.items()):
        _push(world, django_capture_on_commit_callbacks, profile(), spec, f"p-{index}")
        states = _states()
        assert [s["prediction_count"] for s in states] == [300, 200], way
        _assert_close(by_rows, states)
        assert _verdicts() == verdicts, way
        _forget_windows()
