"""Builders of monitoring batches (JSON rows, JSON columns, Parquet) and the
helpers that push them through the API."""

import gzip
import io
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from monitoring.models import (
    Alert,
    CheckResult,
    FeatureProfile,
    MonitoringBatch,
    MonitoringTarget,
    MonitoringWindow,
    PredictionRecord,
    ReferenceProfile,
    ReviewItem,
)

PREDICTIONS = "/api/v1/monitoring/models/{model}/environments/{env}/predictions"
LABELS = "/api/v1/monitoring/models/{model}/environments/{env}/labels"
METRICS = "/api/v1/monitoring/models/{model}/environments/{env}/metrics"
REFERENCE = "/api/v1/monitoring/models/{model}/versions/{number}/reference"


def hour_ago(hours: int, now: datetime | None = None) -> datetime:
    """The start of the hour ``hours`` hours before now (UTC)."""
    now = now or datetime.now(UTC)
    return (now - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)


def prediction_rows(
    count: int,
    *,
    start: datetime,
    seed: int = 0,
    prefix: str = "p",
    income_mean: float = 50_000.0,
    latency_scale: float = 20.0,
    labels: bool = False,
    spread_seconds: int = 3000,
) -> list[dict]:
    """``count`` predictions of the credit model within the hour from ``start``."""
    rng = np.random.default_rng(seed)
    incomes = rng.normal(income_mean, 10_000, count)
    regions = rng.choice(["north", "south", "east"], count, p=[0.5, 0.3, 0.2])
    scores = rng.random(count)
    latencies = rng.gamma(2.0, latency_scale, count)
    sexes = rng.choice(["female", "male"], count)
    rows = []
    for index in range(count):
        row = {
            "timestamp": (
                start + timedelta(seconds=int(index * spread_seconds / count))
            ).isoformat(),
            "prediction_id": f"{prefix}{index}",
            "income": round(float(incomes[index]), 2),
            "region": str(regions[index]),
            "score": round(float(scores[index]), 4),
            "latency_ms": round(float(latencies[index]), 3),
            "sex": str(sexes[index]),
        }
        if labels:
            row["label"] = int(rng.random() < scores[index])
        rows.append(row)
    return rows


def json_rows(batch_id: str, rows: list[dict], **extra) -> bytes:
    return json.dumps({"batch_id": batch_id, "records": rows, **extra}).encode()


def json_columns(batch_id: str, rows: list[dict], **extra) -> bytes:
    names = list(dict.fromkeys(name for row in rows for name in row))
    columns = {name: [row.get(name) for row in rows] for name in names}
    return json.dumps({"batch_id": batch_id, "columns": columns, **extra}).encode()


def parquet(rows: list[dict], **types) -> bytes:
    """Rows as a Parquet file; timestamps become UTC timestamp columns."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    arrays = {}
    for name in names:
        values = [row.get(name) for row in rows]
        if name in types:
            arrays[name] = pa.array(values, type=types[name])
        elif name == "timestamp" and all(isinstance(v, str) for v in values):
            arrays[name] = pa.array(
                [datetime.fromisoformat(v) for v in values],
                type=pa.timestamp("us", tz="UTC"),
            )
        else:
            arrays[name] = pa.array(values)
    buffer = io.BytesIO()
    pq.write_table(pa.table(arrays), buffer)
    return buffer.getvalue()


def post_json(client, url: str, body: bytes, **headers):
    return client.generic("POST", url, body, content_type="application/json", **headers)


def post_gzip_json(client, url: str, body: bytes):
    return client.generic(
        "POST",
        url,
        gzip.compress(body),
        content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
    )


def post_parquet(client, url: str, body: bytes, **query):
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return client.generic(
        "POST", url, body, content_type="application/vnd.apache.parquet"
    )


def url(template: str, model: str = "credit-scoring", env: str = "production") -> str:
    return template.format(model=model, env=env)


_TABLES = (
    MonitoringTarget,
    MonitoringBatch,
    MonitoringWindow,
    FeatureProfile,
    PredictionRecord,
    ReviewItem,
    ReferenceProfile,
    CheckResult,
    Alert,
)


def monitoring_counts() -> dict[str, int]:
    return {table.__name__: table.objects.count() for table in _TABLES}


def ingest(world, rows: list[dict], batch_id: str, *, kind="predictions", **extra):
    """Receive and apply a batch through the services (no HTTP, no Celery)."""
    from monitoring.services.aggregation import batch_apply
    from monitoring.services.ingestion import batch_receive

    received = batch_receive(
        actor=world.users.requester,
        model_name=world.model.name,
        environment_name="production",
        kind=kind,
        body=json_rows(batch_id, rows, **extra),
        content_type="application/json",
    )
    batch_apply(batch_id=received.batch.pk)
    received.batch.refresh_from_db()
    return received.batch


def upload_reference(world, rows: list[dict], version: int = 2):
    from monitoring.services.ingestion import reference_upload

    return reference_upload(
        actor=world.users.requester,
        model_name=world.model.name,
        version_number=version,
        body=json.dumps({"records": rows}).encode(),
        content_type="application/json",
    )


def reference_rows(count: int = 2000, seed: int = 99) -> list[dict]:
    """A training sample of the credit model's features (and score)."""
    rows = prediction_rows(count, start=hour_ago(5), seed=seed)
    return [{key: row[key] for key in ("income", "region", "score")} for row in rows]


def check_all(now=None):
    """Check every window now (whatever its state); return the results by window."""
    from monitoring.services.checks import window_check

    return {
        window.start: window_check(window_id=window.pk, now=now, force=True)
        for window in MonitoringWindow.objects.order_by("start")
    }


def results_of(check: str, window_start=None) -> dict:
    results = CheckResult.objects.filter(kind=check)
    if window_start is not None:
        results = results.filter(window__start=window_start)
    return {r.subject: (r.status, r.severity) for r in results}
