"""pandas, Polars and Arrow front-ends: one implementation, the same profiles."""

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from gatehouse_client.frames import profile_arrow, profile_pandas, profile_polars
from gatehouse_client.profile import (
    ProfileInvalid,
    encode_json,
    profile_table,
    profiles_document,
)

from tests.client.conftest import assert_same_windows


def document(windows, spec):
    return encode_json(profiles_document(windows, batch_id="b", spec=spec))


def test_pandas_polars_arrow_give_the_library_profiles_byte_for_byte(spec, predictions):
    table = pa.Table.from_pandas(predictions, preserve_index=False)
    expected = document(profile_table(table, spec), spec)
    assert document(profile_arrow(table, spec), spec) == expected
    assert document(profile_pandas(predictions, spec), spec) == expected
    assert document(profile_polars(pl.from_pandas(predictions), spec), spec) == expected
    assert document(profile_polars(pl.from_pandas(predictions).lazy(), spec), spec) == (
        expected
    )
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    assert document(profile_arrow(reader, spec), spec) == expected


def test_chunks_and_shuffled_rows_merge_to_the_same_windows(spec, predictions):
    whole = profile_pandas(predictions, spec)
    assert [window.rows for window in whole] == [
        int(count)
        for count in predictions.timestamp.dt.floor("h").value_counts().sort_index()
    ]
    shuffled = predictions.sample(frac=1, random_state=3)
    chunked = profile_pandas(shuffled, spec, chunk_rows=97)
    assert [window.hour for window in chunked] == [window.hour for window in whole]
    assert_same_windows(whole, chunked)


def test_columns_outside_the_spec_are_not_profiled(spec, predictions):
    windows = profile_pandas(predictions, spec)
    assert set(windows[0].features) == {"income", "age", "region"}
    assert "not_in_spec" not in document(windows, spec).decode()


def test_another_timestamp_column_name(spec, predictions):
    renamed = predictions.rename(columns={"timestamp": "scored_at"})
    assert document(profile_pandas(renamed, spec, timestamp="scored_at"), spec) == (
        document(profile_pandas(predictions, spec), spec)
    )


def test_a_missing_feature_is_refused_by_name(spec, predictions):
    with pytest.raises(ProfileInvalid) as refused:
        profile_pandas(predictions.drop(columns=["age"]), spec)
    assert set(refused.value.fields) == {"age"}
    windows = profile_pandas(
        predictions.drop(columns=["age"]), spec, allow_missing_features=True
    )
    assert "age" not in windows[0].features


def test_no_timestamp_and_wrong_types_are_refused(spec, predictions):
    with pytest.raises(ProfileInvalid) as refused:
        profile_polars(pl.from_pandas(predictions.drop(columns=["timestamp"])), spec)
    assert "timestamp" in refused.value.fields
    text_income = predictions.assign(income=predictions.income.astype(str))
    with pytest.raises(ProfileInvalid) as refused:
        profile_pandas(text_income, spec)
    assert "income" in refused.value.fields
    text_time = predictions.assign(timestamp=predictions.timestamp.astype(str))
    with pytest.raises(ProfileInvalid):
        profile_pandas(text_time, spec)


def test_naive_timestamps_are_utc(spec, predictions):
    naive = predictions.assign(timestamp=predictions.timestamp.dt.tz_localize(None))
    assert document(profile_pandas(naive, spec), spec) == document(
        profile_pandas(predictions, spec), spec
    )


def test_an_empty_frame_has_no_windows(spec, predictions):
    assert profile_pandas(predictions.iloc[:0], spec) == []
    assert profile_pandas(pd.DataFrame(predictions.iloc[:0]), spec, chunk_rows=5) == []
