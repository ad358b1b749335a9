"""The label-join index: one ``PredictionRecord`` per prediction, written by
COPY on PostgreSQL, and labels written onto it in one statement per chunk."""

from __future__ import annotations

import io
import json
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import connection

from monitoring.models import MonitoringTarget, PredictionRecord
from monitoring.windows import text_values

LABEL_CHUNK = 10_000


def records_insert(
    target: MonitoringTarget,
    table: pa.Table,
    hours: np.ndarray,
    window_ids: dict[int, int],
    segments: np.ndarray | None,
    now: datetime,
) -> None:
    """Write the label-join index rows of a prediction batch (COPY on PostgreSQL)."""
    rows = table.num_rows
    unique, inverse = np.unique(hours, return_inverse=True)
    windows = np.asarray([window_ids[int(hour)] for hour in unique])[inverse]
    score = (
        table.column("score").combine_chunks()
        if "score" in table.column_names
        else pa.nulls(rows, pa.float64())
    )
    predictions = text_values(column_values(table, "prediction"), rows)
    labels = text_values(column_values(table, "label"), rows)
    labelled = np.asarray([label is not None for label in labels])
    columns = {
        "target_id": pa.array(np.full(rows, target.pk, dtype=np.int64)),
        "window_id": pa.array(windows.astype(np.int64)),
        "prediction_id": table.column("prediction_id").combine_chunks(),
        "score": score,
        "prediction": pa.array(
            ["" if value is None else value for value in predictions], type=pa.string()
        ),
        "segments": pa.array(
            segments if segments is not None else np.full(rows, "{}", dtype=object),
            type=pa.string(),
        ),
        "label": pa.array(list(labels), type=pa.string()),
        "labelled_at": pa.array(
            [now if flag else None for flag in labelled],
            type=pa.timestamp("us", tz="UTC"),
        ),
    }
    if connection.vendor == "postgresql":
        buffer = io.BytesIO()
        pa_csv.write_csv(
            pa.table(columns), buffer, pa_csv.WriteOptions(include_header=False)
        )
        names = ", ".join(columns)
        table_name = PredictionRecord._meta.db_table
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f"COPY {table_name} ({names}) FROM STDIN WITH (FORMAT csv)"
            ) as copy,
        ):
            copy.write(buffer.getvalue())
        return
    ids = columns["prediction_id"].to_pylist()
    scores = score.to_pylist()
    segment_texts = columns["segments"].to_pylist()
    PredictionRecord.objects.bulk_create(
        [
            PredictionRecord(
                target_id=target.pk,
                window_id=int(windows[index]),
                prediction_id=ids[index],
                score=scores[index],
                prediction=predictions[index] or "",
                segments=json.loads(segment_texts[index]),
                label=labels[index],
                labelled_at=now if labelled[index] else None,
            )
            for index in range(rows)
        ],
        batch_size=1000,
    )


def column_values(table: pa.Table, name: str) -> np.ndarray | None:
    if name not in table.column_names:
        return None
    column = table.column(name).combine_chunks()
    if pa.types.is_floating(column.type):
        return column.to_numpy(zero_copy_only=False)
    return np.asarray(column.to_pylist(), dtype=object)


def records_label(records: list[PredictionRecord], now: datetime) -> None:
    """Write the labels of many records in one statement per chunk."""
    if not records:
        return
    if connection.vendor != "postgresql":
        PredictionRecord.objects.bulk_update(records, ["label", "labelled_at"])
        return
    table = PredictionRecord._meta.db_table
    sql = (
        f"UPDATE {table} AS record SET label = given.label, labelled_at = %s "  # noqa: S608
        "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::text[]) AS label) "
        "AS given WHERE record.id = given.id"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(records), LABEL_CHUNK):
            chunk = records[start : start + LABEL_CHUNK]
            cursor.execute(sql, [now, [r.pk for r in chunk], [r.label for r in chunk]])
