"""Gatehouse.push_profiles: against the live test server (spec fetched over HTTP,
binary document pushed, idempotent by batch id, refusals with their fields),
and retries against a flaky server (the outside world)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from gatehouse_client.frames import profile_pandas
from gatehouse_client.profile import profiles_document
from gatehouse_client.push import Gatehouse, GatehouseError

from monitoring.models import MonitoringBatch, MonitoringWindow
from portal.services import api_token_create
from tests.monitoring.batches import hour_ago, prediction_rows, reference_rows

MODEL, ENV = "credit-scoring", "production"


@pytest.fixture
def portal(transactional_db, live_server, monkeypatch):
    """The monitoring world committed (the live server's threads see it), a
    reference uploaded, and a token of a data scientist of the owning team."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from monitoring.services.ingestion import reference_upload
    from tests.monitoring.conftest import build_world

    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    ids = build_world()
    users = get_user_model().objects.in_bulk(list(ids["people"].values()))
    requester = users[ids["people"]["requester"]]
    reference_upload(
        actor=requester,
        model_name=MODEL,
        version_number=2,
        body=json.dumps({"records": reference_rows(500)}).encode(),
        content_type="application/json",
    )
    token = api_token_create(user=requester, name="profiles job")[1]
    outsider = api_token_create(user=users[ids["people"]["outsider"]], name="x")[1]
    return live_server.url, token, outsider


def _frame(rows):
    frame = pd.DataFrame(rows)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def test_push_profiles_to_the_live_portal(portal):
    url, token, outsider = portal
    gatehouse = Gatehouse(url, token, retries=0)
    spec = gatehouse.profile_spec(MODEL, ENV)
    assert (spec.version, set(spec.features)) == (2, {"income", "region"})
    rows = prediction_rows(60, start=hour_ago(4), labels=True)
    windows = profile_pandas(_frame(rows), spec)

    # The spec is fetched by push_profiles itself when not given.
    [first] = gatehouse.push_profiles(MODEL, ENV, 2, windows, batch_id="job-1")
    assert (first.status, first.duplicate, first.body["rows"]) == (202, False, 60)
    [again] = gatehouse.push_profiles(MODEL, ENV, 2, windows, batch_id="job-1")
    assert again.duplicate
    window = MonitoringWindow.objects.get()
    assert (window.prediction_count, window.profile_rows) == (60, 60)

    # Without a batch id: one derived from the content, so a re-push counts once.
    later = profile_pandas(_frame(prediction_rows(5, start=hour_ago(3))), spec)
    [derived] = gatehouse.push_profiles(MODEL, ENV, None, later, spec=spec)
    [repeat] = gatehouse.push_profiles(MODEL, ENV, None, later, spec=spec)
    assert derived.batch_id == repeat.batch_id
    assert repeat.duplicate
    assert MonitoringBatch.objects.count() == 2

    # The same batch id with other content: 409, not counted.
    with pytest.raises(GatehouseError) as refused:
        gatehouse.push_profiles(MODEL, ENV, 2, later, batch_id="job-1", spec=spec)
    assert refused.value.status == 409

    # A bad profile: 400 naming the field, nothing stored.
    document = profiles_document(windows, batch_id="job-bad", spec=spec)
    document["windows"][0]["features"]["income"]["counts"][0] = -1
    with pytest.raises(GatehouseError) as refused:
        gatehouse.push_document(MODEL, ENV, document)
    assert refused.value.status == 400
    assert any("income" in path for path in refused.value.fields)
    assert MonitoringBatch.objects.count() == 2

    # Who may not: an outsider sees no such model.
    with pytest.raises(GatehouseError) as refused:
        Gatehouse(url, outsider, retries=0).profile_spec(MODEL, ENV)
    assert refused.value.status == 404


class Flaky(BaseHTTPRequestHandler):
    """Answers 503 (with Retry-After: 1) ``failures`` times, then 202."""

    failures = 2
    seen: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.headers["Authorization"], len(body)))
        if len(self.seen) <= self.failures:
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(b'{"message": "busy"}')
            return
        self.send_response(202)
        self.end_headers()
        self.wfile.write(json.dumps({"status": "received"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky():
    Flaky.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_retries_are_bounded_with_backoff(flaky, spec):
    url = f"http://127.0.0.1:{flaky.server_address[1]}"
    windows = profile_pandas(
        _frame(prediction_rows(10, start=hour_ago(3))),
        spec,
        allow_missing_features=True,
    )
    waits = []
    gatehouse = Gatehouse(url, "gh_t", retries=3, backoff=0.5, sleep=waits.append)
    [result] = gatehouse.push_profiles(MODEL, ENV, 2, windows, batch_id="b", spec=spec)
    assert result.status == 202
    assert len(Flaky.seen) == 3  # two 503s, then accepted
    assert {auth for auth, _ in Flaky.seen} == {"Token gh_t"}
    assert len({size for _, size in Flaky.seen}) == 1  # the same body each time
    assert len(waits) == 2
    assert all(0.25 <= wait <= 1.0 for wait in waits)  # Retry-After 1 s, jittered

    Flaky.seen, Flaky.failures = [], 10
    waits.clear()
    gatehouse = Gatehouse(url, "gh_t", retries=2, backoff=0.5, sleep=waits.append)
    with pytest.raises(GatehouseError) as refused:
        gatehouse.push_profiles(MODEL, ENV, 2, windows, batch_id="b", spec=spec)
    assert refused.value.status == 503
    assert len(Flaky.seen) == 3  # the first try and two retries
    Flaky.failures = 2


def test_an_unreachable_portal_is_said_after_the_retries(spec):
    windows = profile_pandas(
        _frame(prediction_rows(3, start=hour_ago(3))), spec, allow_missing_features=True
    )
    waits = []
    gatehouse = Gatehouse("http://127.0.0.1:9", "t", retries=2, sleep=waits.append)
    with pytest.raises(GatehouseError, match="could not be reached after 3 attempts"):
        gatehouse.push_profiles(MODEL, ENV, 2, windows, batch_id="b", spec=spec)
    assert [round(wait / 0.5, 1) <= 2**i for i, wait in enumerate(waits)] == [True] * 2
