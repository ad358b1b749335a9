"""Pushing batches: what is accepted (JSON rows, JSON columns, Parquet, gzip),
idempotency by batch id, and every refusal with its error, storing nothing."""

import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from monitoring.models import (
    BatchStatus,
    FeatureProfile,
    MonitoringBatch,
    MonitoringWindow,
    PredictionRecord,
)
from tests.monitoring import batches
from tests.monitoring.batches import (
    PREDICTIONS,
    hour_ago,
    json_columns,
    json_rows,
    monitoring_counts,
    parquet,
    post_gzip_json,
    post_json,
    post_parquet,
    prediction_rows,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows():
    return prediction_rows(40, start=hour_ago(3))


def _window():
    return MonitoringWindow.objects.get()


def test_a_json_batch_is_stored_answered_202_and_applied_once(
    world, rows, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_json(world.client, url(PREDICTIONS), json_rows("b-1", rows))

    assert response.status_code == 202, response.json()
    batch = MonitoringBatch.objects.get()
    body = response.json()
    assert body == {
        "id": batch.pk,
        "batch_id": "b-1",
        "kind": "predictions",
        "status": "pending",
        "rows": 40,
        "duplicate": False,
        "status_url": f"/api/v1/monitoring/batches/{batch.pk}",
    }
    assert response["Location"] == body["status_url"]
    # The aggregation task is queued after the commit.
    assert [c.__name__ for c in callbacks] == ["enqueue_monitoring_batch"]
    batch.refresh_from_db()
    assert (batch.status, batch.target.version, batch.format) == (
        BatchStatus.APPLIED,
        world.v2,
        "json_rows",
    )
    window = _window()
    assert (window.prediction_count, window.latency_count) == (40, 40)
    assert PredictionRecord.objects.count() == 40
    income = FeatureProfile.objects.get(window=window, feature="income")
    region = FeatureProfile.objects.get(window=window, feature="region")
    assert (income.count, income.missing, region.count) == (40, 0, 40)

    status = world.client.get(body["status_url"])
    assert status.status_code == 200
    assert status.json()["status"] == "applied"
    assert status.json()["result"]["rows"] == 40


def test_a_resent_batch_id_answers_200_with_the_same_status_url_and_counts_once(
    world, rows, django_capture_on_commit_callbacks
):
    body = json_rows("b-1", rows)
    with django_capture_on_commit_callbacks(execute=True):
        first = post_json(world.client, url(PREDICTIONS), body)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = post_json(world.client, url(PREDICTIONS), body)

    assert again.status_code == 200
    assert again.json()["status_url"] == first.json()["status_url"]
    assert again.json()["duplicate"] is True
    assert again.json()["status"] == "applied"
    assert callbacks == []
    assert MonitoringBatch.objects.count() == 1
    assert _window().prediction_count == 40
    assert PredictionRecord.objects.count() == 40


def test_the_same_batch_id_with_other_content_is_refused_with_409(
    world, rows, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_json(world.client, url(PREDICTIONS), json_rows("b-1", rows))
    before = monitoring_counts()

    response = post_json(world.client, url(PREDICTIONS), json_rows("b-1", rows[:5]))

    assert response.status_code == 409
    assert response.json()["code"] == "batch_id_reused"
    assert response.json()["fields"] == {
        "batch_id": ["Already used for different content."]
    }
    assert monitoring_counts() == before


def test_a_batch_id_is_per_kind_model_and_environment(
    world, rows, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        post_json(world.client, url(PREDICTIONS), json_rows("b-1", rows))
        staging = post_json(
            world.client, url(PREDICTIONS, env="staging"), json_rows("b-1", rows)
        )
    assert staging.status_code == 202
    assert MonitoringBatch.objects.count() == 2


def test_column_layout_parquet_and_gzip_give_the_same_windows(
    world, rows, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        responses = [
            post_json(world.client, url(PREDICTIONS), json_columns("cols", rows)),
            post_parquet(world.client, url(PREDICTIONS), parquet(rows), batch_id="pq"),
            post_gzip_json(world.client, url(PREDICTIONS), json_rows("gz", rows)),
        ]
    assert [r.status_code for r in responses] == [202, 202, 202]
    formats = dict(MonitoringBatch.objects.values_list("batch_id", "format"))
    assert formats == {"cols": "json_columns", "pq": "parquet", "gz": "json_rows"}
    # Three copies of the same 40 rows (prediction ids are only unique per batch).
    window = _window()
    assert window.prediction_count == 120
    income = FeatureProfile.objects.get(window=window, feature="income")
    assert income.count == 120


def test_nulls_are_missing_values(world, rows, django_capture_on_commit_callbacks):
    rows[0]["income"] = None
    rows[1]["region"] = None
    del rows[2]["score"]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(world.client, url(PREDICTIONS), json_rows("b", rows))
    assert response.status_code == 202
    window = _window()
    income = FeatureProfile.objects.get(window=window, feature="income")
    region = FeatureProfile.objects.get(window=window, feature="region")
    assert (income.count, income.missing) == (39, 1)
    assert (region.count, region.missing) == (39, 1)
    assert window.prediction_count == 40


def test_a_batch_spanning_two_hours_lands_in_two_windows(
    world, django_capture_on_commit_callbacks
):
    rows = prediction_rows(10, start=hour_ago(4), spread_seconds=7200)
    with django_capture_on_commit_callbacks(execute=True):
        post_json(world.client, url(PREDICTIONS), json_rows("b", rows))
    counts = list(
        MonitoringWindow.objects.order_by("start").values_list(
            "start", "prediction_count"
        )
    )
    assert counts == [(hour_ago(4), 5), (hour_ago(3), 5)]


def test_the_version_can_be_named(world, rows, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_json(
            world.client, url(PREDICTIONS), json_rows("b", rows, version=1)
        )
    assert response.status_code == 202
    assert MonitoringBatch.objects.get().target.version == world.v1


# --- Refusals ------------------------------------------------------------------------


def _now_iso(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def _bad_rows(change):
    rows = prediction_rows(5, start=hour_ago(2))
    change(rows)
    return rows


def _set(row_index, key, value):
    def change(rows):
        rows[row_index][key] = value

    return change


def _drop(key):
    def change(rows):
        for row in rows:
            row.pop(key, None)

    return change


# (name, change, field, message). One world for all: each case is independent
# (nothing is stored by any of them, which the test asserts every time).
NAIVE = "2026-01-01T10:00:00"
BAD_ROWS = [
    (
        "text",
        _set(2, "income", "rich"),
        "income",
        "Row 2: expected a number, got text.",
    ),
    (
        "boolean",
        _set(1, "income", True),
        "income",
        "Row 1: expected a number, got a boolean.",
    ),
    (
        "float-category",
        _set(3, "region", 4.5),
        "region",
        "Row 3: expected text or an integer, got a number.",
    ),
    (
        "array",
        _set(0, "score", [1]),
        "score",
        "Row 0: expected a number, got an array.",
    ),
    (
        "confidence",
        _set(4, "confidence", 1.5),
        "confidence",
        "Row 4: must be between 0 and 1.",
    ),
    (
        "latency",
        _set(1, "latency_ms", -3),
        "latency_ms",
        "Row 1: must not be negative.",
    ),
    (
        "naive-timestamp",
        _set(2, "timestamp", NAIVE),
        "timestamp",
        f"Row 2: '{NAIVE}' is not an ISO 8601 time with a UTC offset "
        "(such as 2026-01-31T09:30:00Z).",
    ),
    (
        "null-time",
        _set(0, "timestamp", None),
        "timestamp",
        "Row 0: a value is required.",
    ),
    (
        "empty-id",
        _set(3, "prediction_id", ""),
        "prediction_id",
        "Row 3: 1 to 200 characters.",
    ),
    (
        "duplicate-id",
        _set(4, "prediction_id", "p0"),
        "prediction_id",
        "Must be unique in a batch: 'p0' is repeated.",
    ),
    (
        "unknown-column",
        _set(0, "colour", "red"),
        "colour",
        "Unknown column. It is not in the feature spec of the deployed artifact, "
        "nor a fairness attribute of the model.",
    ),
    (
        "missing-feature",
        _drop("income"),
        "income",
        "Feature column missing (send null for missing values).",
    ),
    ("missing-id", _drop("prediction_id"), "prediction_id", "Required column missing."),
]


def test_every_bad_row_is_refused_naming_its_field_and_nothing_is_stored(world):
    before = monitoring_counts()
    for name, change, field, message in BAD_ROWS:
        response = post_json(
            world.client, url(PREDICTIONS), json_rows(name, _bad_rows(change))
        )
        assert response.status_code == 400, name
        assert response.json()["code"] == "batch_invalid", name
        assert response.json()["fields"] == {field: [message]}, name
        assert monitoring_counts() == before, name


def test_a_future_timestamp_is_refused(world):
    rows = prediction_rows(3, start=hour_ago(1))
    rows[1]["timestamp"] = _now_iso(hours=3)
    response = post_json(world.client, url(PREDICTIONS), json_rows("b", rows))
    assert response.status_code == 400
    [message] = response.json()["fields"]["timestamp"]
    assert message.startswith("Row 1: in the future")
    assert monitoring_counts()["MonitoringBatch"] == 0


def _with_nan(rows: list[dict], *indexes: int) -> list[dict]:
    return [
        {**row, "income": float("nan") if i in indexes else row["income"]}
        for i, row in enumerate(rows)
    ]


@pytest.mark.parametrize("layout", ["json", "parquet"])
def test_nan_counts_as_a_missing_value(
    world, rows, layout, django_capture_on_commit_callbacks
):
    # NumPy, pandas and polars write NaN for a missing float: one NaN used to
    # refuse the whole batch ("nan is not a finite number").
    with_nan = _with_nan(rows, 3, 7)
    with django_capture_on_commit_callbacks(execute=True):
        if layout == "json":
            body = json_rows("b", with_nan)  # json.dumps writes NaN
            assert b"NaN" in body
            response = post_json(world.client, url(PREDICTIONS), body)
        else:
            body = parquet(with_nan)
            response = post_parquet(world.client, url(PREDICTIONS), body, batch_id="b")
    assert response.status_code == 202, response.json()
    income = FeatureProfile.objects.get(window=_window(), feature="income")
    assert (income.count, income.missing) == (38, 2)


def _version_never_missing(world, feature: str) -> int:
    """A new version whose feature spec says ``feature`` is never missing."""
    from tests.models_registry import factories

    spec = [
        {"name": "income", "type": "numeric"},
        {"name": "region", "type": "categorical"},
    ]
    spec = [
        {**item, "nullable": False} if item["name"] == feature else item
        for item in spec
    ]
    version = factories.make_version(
        world.users.author, world.model, artifact={"feature_spec": spec}
    )
    return version.version


@pytest.mark.parametrize("layout", ["json", "parquet"])
def test_a_missing_value_of_a_never_missing_feature_names_the_rows(world, rows, layout):
    number = _version_never_missing(world, "income")
    with_missing = _with_nan(rows, 3, 7)
    with_missing[11]["income"] = None
    before = monitoring_counts()
    if layout == "json":
        body = json_rows("b", with_missing, version=number)
        response = post_json(world.client, url(PREDICTIONS), body)
    else:
        response = post_parquet(
            world.client,
            url(PREDICTIONS),
            parquet(with_missing),
            batch_id="b",
            version=number,
        )
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "income": [
            "Rows 3, 7, 11: missing (null or NaN), and the feature spec says this "
            "feature is never missing (nullable: false)."
        ]
    }
    assert monitoring_counts() == before


def test_the_rows_named_are_capped_at_ten(world, rows):
    number = _version_never_missing(world, "income")
    body = json_rows("b", _with_nan(rows, *range(15)), version=number)
    response = post_json(world.client, url(PREDICTIONS), body)
    assert response.status_code == 400
    [message] = response.json()["fields"]["income"]
    assert message.startswith("Rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 5 more: missing")


@pytest.mark.parametrize("token", ["Infinity", "-Infinity"])
def test_infinite_numbers_are_refused(world, token):
    rows = prediction_rows(3, start=hour_ago(2))
    body = (
        json_rows("b", rows)
        .decode()
        .replace('"income": ' + str(rows[1]["income"]), '"income": ' + token)
    )
    before = monitoring_counts()
    response = post_json(world.client, url(PREDICTIONS), body.encode())
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "income": [f"Row 1: {float(token)!r} is not a finite number."]
    }
    assert monitoring_counts() == before


def _body(**document) -> bytes:
    return json.dumps(document).encode()


RAGGED = {"income": [1, 2], "region": ["a", "b"], "score": [1]}
BAD_BODIES = [
    ("not-json", b"{not json", "body"),
    ("not-an-object", b"[1, 2]", "body"),
    ("no-records", _body(batch_id="b"), "body"),
    ("no-batch-id", _body(records=[{}]), "batch_id"),
    ("bad-batch-id", _body(batch_id="a b", records=[{}]), "batch_id"),
    ("empty", _body(batch_id="b", records=[]), "rows"),
    ("row-not-object", _body(batch_id="b", records=[1]), "records"),
    ("unknown-key", _body(batch_id="b", records=[], extra=1), "extra"),
    ("ragged-columns", _body(batch_id="b", columns=RAGGED), "score"),
    ("bad-version", _body(batch_id="b", version="two", records=[{}]), "version"),
    ("unknown-version", _body(batch_id="b", version=9, records=[{}]), "version"),
]


def test_every_malformed_body_is_refused_naming_the_problem(world):
    before = monitoring_counts()
    for name, body, field in BAD_BODIES:
        response = post_json(world.client, url(PREDICTIONS), body)
        assert response.status_code == 400, name
        assert list(response.json()["fields"]) == [field], name
        assert monitoring_counts() == before, name


def test_more_rows_than_the_limit_is_a_400_naming_rows(world, settings):
    settings.MONITORING_MAX_ROWS = 4
    response = post_json(
        world.client,
        url(PREDICTIONS),
        json_rows("b", prediction_rows(5, start=hour_ago(2))),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_rows"
    assert response.json()["fields"] == {"rows": ["At most 4 rows per batch."]}
    assert monitoring_counts()["MonitoringBatch"] == 0


def test_more_feature_columns_than_the_limit_is_a_400_naming_features(world, settings):
    settings.MONITORING_MAX_FEATURES = 2  # income, region, sex: three
    response = post_parquet(
        world.client,
        url(PREDICTIONS),
        parquet(prediction_rows(5, start=hour_ago(2))),
        batch_id="b",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_features"
    assert response.json()["fields"] == {"features": ["At most 2 feature columns."]}
    assert monitoring_counts()["MonitoringBatch"] == 0


def test_a_body_over_the_limit_is_a_413(world, settings):
    settings.MONITORING_MAX_BODY_BYTES = 1000
    body = json_rows("b", prediction_rows(20, start=hour_ago(2)))
    response = post_json(world.client, url(PREDICTIONS), body)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.json()["fields"] == {"body": ["At most 1,000 bytes."]}
    gzipped = post_gzip_json(world.client, url(PREDICTIONS), body)
    assert gzipped.status_code == 413  # the limit applies after decompression
    assert monitoring_counts()["MonitoringBatch"] == 0


def test_an_unsupported_content_type_is_a_415(world):
    response = world.client.generic(
        "POST", url(PREDICTIONS), b"a,b\n1,2\n", content_type="text/csv"
    )
    assert response.status_code == 415
    assert response.json()["fields"] == {"Content-Type": ["Unsupported: text/csv."]}


def test_parquet_refusals_name_the_column(world):
    rows = prediction_rows(4, start=hour_ago(2))
    naive = parquet(
        [
            {
                **row,
                "timestamp": datetime.fromisoformat(row["timestamp"]).replace(
                    tzinfo=None
                ),
            }
            for row in rows
        ],
        timestamp=pa.timestamp("us"),
    )
    infinite = parquet(
        [
            {**row, "income": float("inf") if i == 2 else row["income"]}
            for i, row in enumerate(rows)
        ]
    )
    text = parquet([{**row, "income": str(row["income"])} for row in rows])
    ambiguous = (
        "Timestamps without a time zone are ambiguous: write them as UTC "
        "(isAdjustedToUTC)."
    )
    cases = {
        "naive": (naive, "timestamp", ambiguous),
        "infinite": (infinite, "income", "Row 2: inf is not a finite number."),
        "text": (text, "income", "Expected a numeric column, got string."),
    }
    for batch_id, (body, field, message) in cases.items():
        response = post_parquet(world.client, url(PREDICTIONS), body, batch_id=batch_id)
        assert response.status_code == 400, batch_id
        assert response.json()["fields"] == {field: [message]}, batch_id
    missing_id = post_parquet(world.client, url(PREDICTIONS), parquet(rows))
    assert missing_id.json()["fields"] == {
        "batch_id": ["Required: a client batch id (text)."]
    }
    not_parquet = post_parquet(
        world.client, url(PREDICTIONS), b"PAR1junk", batch_id="x"
    )
    assert not_parquet.status_code == 400
    assert list(not_parquet.json()["fields"]) == ["body"]
    assert monitoring_counts()["MonitoringBatch"] == 0


def test_unknown_model_and_environment_are_404(world, rows):
    body = json_rows("b", rows)
    model = post_json(world.client, url(PREDICTIONS, model="nope"), body)
    environment = post_json(world.client, url(PREDICTIONS, env="moon"), body)
    assert (model.status_code, model.json()["code"]) == (404, "model_not_found")
    assert (environment.status_code, environment.json()["code"]) == (
        404,
        "environment_not_found",
    )
    assert monitoring_counts()["MonitoringBatch"] == 0


def test_no_live_version_needs_the_version_named(world):
    from tests.models_registry import factories

    other = factories.make_model(world.users.author, world.team, name="idle-model")
    factories.make_version(world.users.author, other)
    body = json_rows("b", prediction_rows(3, start=hour_ago(2)))
    response = post_json(world.client, url(PREDICTIONS, model="idle-model"), body)
    assert response.status_code == 400
    assert response.json()["code"] == "no_live_version"
    assert response.json()["fields"] == {
        "version": [
            "No version of idle-model is live in production: say which version "
            "the batch comes from."
        ]
    }


def test_labels_and_metrics_batches(world, django_capture_on_commit_callbacks):
    rows = prediction_rows(40, start=hour_ago(3))
    labels = [
        {"prediction_id": row["prediction_id"], "label": index % 2}
        for index, row in enumerate(rows[:30])
    ] + [{"prediction_id": "never-seen", "label": 1}]
    metrics = [
        {"timestamp": hour_ago(3).isoformat(), "name": "approval_rate", "value": 0.4},
        {"timestamp": hour_ago(3).isoformat(), "name": "approval_rate", "value": 0.6},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        post_json(world.client, url(PREDICTIONS), json_rows("p", rows))
        first = post_json(world.client, url(batches.LABELS), json_rows("l1", labels))
        second = post_json(
            world.client, url(batches.LABELS), json_rows("l2", labels[:10])
        )
        kpis = post_json(world.client, url(batches.METRICS), json_rows("m", metrics))
    assert [first.status_code, second.status_code, kpis.status_code] == [202] * 3
    results = {
        b.batch_id: b.result for b in MonitoringBatch.objects.filter(kind="labels")
    }
    assert results["l1"] == {
        "rows": 31,
        "matched": 30,
        "already_labelled": 0,
        "unmatched": 1,
        "invalid_labels": 0,
        "windows": 1,
    }
    assert results["l2"]["matched"] == 0
    assert results["l2"]["already_labelled"] == 10
    window = _window()
    assert window.label_count == 30
    assert window.outcomes["n"] == 30
    assert window.kpis == {
        "approval_rate": {"count": 2, "sum": 1.0, "min": 0.4, "max": 0.6}
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"batch_id": "b-nul", "records": [{"region": "a\\u0000b"}]}',
        b'{"batch_id": "b-sur", "records": [{"region": "\\ud800"}]}',
        b'{"batch_id": "b-deep", "records": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["nul", "lone-surrogate", "deep"],
)
def test_hostile_json_batches_are_refused_with_400_and_store_nothing(world, body):
    before = monitoring_counts()
    response = post_json(world.client, url(PREDICTIONS), body)
    assert response.status_code == 400
    assert response.json()["code"] == "batch_invalid"
    assert "body" in response.json()["fields"]
    assert monitoring_counts() == before


@pytest.mark.parametrize("version", ["²", "٣"])
def test_unicode_digit_versions_are_refused(world, rows, version):
    before = monitoring_counts()
    response = post_parquet(
        world.client, url(PREDICTIONS), parquet(rows), batch_id="b-v", version=version
    )
    assert response.status_code == 400
    assert "version" in response.json()["fields"]
    assert monitoring_counts() == before


def test_too_many_json_rows_are_refused_before_parsing(world, settings, monkeypatch):
    from monitoring.parsing import bodies

    settings.MONITORING_MAX_ROWS = 5
    parsed = []
    real = bodies.loads_checked
    monkeypatch.setattr(
        bodies, "loads_checked", lambda *a, **k: parsed.append(1) or real(*a, **k)
    )
    before = monitoring_counts()
    rows = b",".join([b'{"region": "a,{[b"}'] * 6)
    body = b'{"batch_id": "b-many", "records": [' + rows + b"]}"
    response = post_json(world.client, url(PREDICTIONS), body)
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_rows"
    assert parsed == []
    assert monitoring_counts() == before


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        (b'{"records": [{"a": {"b": [1, 2]}}, {"a": "x,{"}]}', 2),
        (b'{"columns": {"a": [1, 2, 3], "b": ["x,y", "\\\\\\"", "z"]}}', 3),
        (b'{"records": []}', 0),
    ],
)
def test_rows_are_counted_on_the_structure(body, rows):
    from monitoring.parsing.bodies import estimated_rows

    assert estimated_rows(body) == rows
