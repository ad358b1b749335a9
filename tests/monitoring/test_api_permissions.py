"""Who may push monitoring data and upload references (the owning team with the
push_data permission, or a service account given it), and who may read batch
status and windows (anyone who may see the model; 404 otherwise)."""

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from monitoring.models import MonitoringBatch, ReferenceProfile
from tests.monitoring.batches import (
    PREDICTIONS,
    REFERENCE,
    hour_ago,
    ingest,
    json_rows,
    monitoring_counts,
    post_json,
    prediction_rows,
    reference_rows,
    url,
)
from tests.monitoring.conftest import client_for

pytestmark = pytest.mark.django_db

PUSHERS = [
    ("requester", 202),  # data scientist of the owning team
    ("teammate", 202),
    ("author", 202),
    ("reviewer", 403),  # sees the model, may not push
    ("risk_officer", 403),
    ("auditor", 403),
    ("admin", 403),
    ("service", 403),  # in the team, but without push_data
    ("stranger", 404),  # data scientist of another team
    ("outsider", 404),
]


@pytest.mark.parametrize(("person", "status"), PUSHERS)
def test_who_may_push_predictions(world, person, status):
    client = client_for(getattr(world.users, person))
    before = monitoring_counts()
    response = post_json(
        client, url(PREDICTIONS), json_rows("b", prediction_rows(5, start=hour_ago(2)))
    )
    assert response.status_code == status, response.json()
    if status != 202:
        assert monitoring_counts() == before
        expected = "permission_denied" if status == 403 else "model_not_found"
        assert response.json()["code"] == expected


def test_anonymous_pushes_are_refused(world):
    response = post_json(
        APIClient(),
        url(PREDICTIONS),
        json_rows("b", prediction_rows(5, start=hour_ago(2))),
    )
    assert response.status_code in (401, 403)
    assert MonitoringBatch.objects.count() == 0


def test_a_service_account_given_push_data_may_push(world):
    service = world.users.service
    service.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="monitoring", codename="push_data"
        )
    )
    response = post_json(
        client_for(service),
        url(PREDICTIONS),
        json_rows("svc-1", prediction_rows(5, start=hour_ago(2))),
    )
    assert response.status_code == 202
    assert MonitoringBatch.objects.get().received_by == service


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("requester", 200),
        ("reviewer", 200),
        ("auditor", 200),
        ("stranger", 404),
        ("outsider", 404),
    ],
)
def test_who_may_read_a_batch_and_the_windows(world, person, status):
    batch = ingest(world, prediction_rows(30, start=hour_ago(3)), "b")
    client = client_for(getattr(world.users, person))
    response = client.get(f"/api/v1/monitoring/batches/{batch.pk}")
    assert response.status_code == status
    windows = client.get(
        "/api/v1/monitoring/models/credit-scoring/environments/production/windows",
        {"hours": 24},
    )
    assert windows.status_code == status
    if status == 200:
        assert response.json()["status"] == "applied"
        assert response.json()["result"]["rows"] == 30
        [window] = windows.json()["results"]
        assert (window["start"], window["predictions"]) == (
            hour_ago(3).isoformat().replace("+00:00", "Z"),
            30,
        )


def _reference_parquet(rows) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buffer)
    return buffer.getvalue()


def test_a_reference_sample_is_uploaded_as_json_or_parquet(world):
    rows = reference_rows(500)
    path = REFERENCE.format(model="credit-scoring", number=2)
    as_json = world.client.generic(
        "POST",
        path,
        json.dumps({"records": rows}).encode(),
        content_type="application/json",
    )
    as_parquet = world.client.generic(
        "POST",
        path,
        _reference_parquet(rows),
        content_type="application/vnd.apache.parquet",
    )
    assert (as_json.status_code, as_parquet.status_code) == (201, 201)
    body = as_parquet.json()
    assert (body["version"], body["source"], body["rows"], body["features"]) == (
        2,
        "upload",
        500,
        ["income", "region"],
    )
    assert body["has_score"] is True
    assert ReferenceProfile.objects.count() == 2


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([{"income": 1.0}], "region"),
        ([{"income": "x", "region": "north"}], "income"),
        ([{"income": 1.0, "region": "n", "colour": "red"}], "colour"),
        ([{"income": None, "region": "n"}, {"income": None, "region": "s"}], "income"),
    ],
)
def test_a_bad_reference_sample_is_refused(world, rows, field):
    path = REFERENCE.format(model="credit-scoring", number=2)
    response = world.client.generic(
        "POST",
        path,
        json.dumps({"records": rows}).encode(),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert ReferenceProfile.objects.count() == 0


@pytest.mark.parametrize(("person", "status"), [("reviewer", 403), ("stranger", 404)])
def test_who_may_not_upload_a_reference(world, person, status):
    path = REFERENCE.format(model="credit-scoring", number=2)
    response = client_for(getattr(world.users, person)).generic(
        "POST",
        path,
        json.dumps({"records": reference_rows(50)}).encode(),
        content_type="application/json",
    )
    assert response.status_code == status
    assert ReferenceProfile.objects.count() == 0


def test_the_configuration_is_read_by_viewers_and_changed_by_the_team(world):
    path = "/api/v1/monitoring/models/credit-scoring/config"
    read = client_for(world.users.auditor).get(path)
    assert read.status_code == 200
    assert read.json()["task"] == "binary_classification"
    assert read.json()["drift"]["numeric_method"] == "wasserstein"
    assert read.json()["retrain_checks"] == ["concept_drift"]
    refused = client_for(world.users.reviewer).patch(
        path, {"decision_threshold": 0.6}, format="json"
    )
    assert refused.status_code == 403
    bad = world.client.patch(path, {"drift": {"numeric_method": "chi2"}}, format="json")
    assert bad.status_code == 400
    assert list(bad.json()["fields"]) == ["drift"]
    changed = world.client.patch(
        path,
        {
            "decision_threshold": 0.6,
            "drift": {"thresholds": {"wasserstein": [0.2, 0.4]}},
        },
        format="json",
    )
    assert changed.status_code == 200
    assert changed.json()["decision_threshold"] == 0.6
    assert changed.json()["drift"]["thresholds"]["wasserstein"] == [0.2, 0.4]
    from audit.models import AuditEvent

    event = AuditEvent.objects.get(action="monitoring.config_changed")
    assert event.scope == "credit-scoring"
