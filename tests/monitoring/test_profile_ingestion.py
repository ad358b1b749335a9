"""Window profiles pushed by a client (issue #15): the spec they are made on,
their receipt (JSON and binary, idempotent, audited, refused whole when bad),
their merge into the same windows as rows, and the same window profile and
verdicts from rows as from a profile of the same rows."""

import json
import math
from datetime import datetime, timedelta

import pyarrow as pa
import pytest
from django.urls import reverse
from gatehouse_client.profile import (
    BINARY_MEDIA_TYPE,
    ProfileSpec,
    encode_binary,
    encode_json,
    profile_table,
    profiles_document,
)

from audit.models import AuditEvent
from monitoring.models import (
    Alert,
    CheckResult,
    FeatureProfile,
    MonitoringBatch,
    MonitoringWindow,
)
from tests.monitoring.batches import (
    check_all,
    hour_ago,
    ingest,
    monitoring_counts,
    prediction_rows,
    reference_rows,
    upload_reference,
)
from tests.monitoring.conftest import client_for

pytestmark = pytest.mark.django_db

BASE = "/api/v1/monitoring/models/credit-scoring/environments/production"
PROFILES = f"{BASE}/profiles"
SPEC = f"{BASE}/profile-spec"


def _spec(world) -> ProfileSpec:
    response = world.client.get(SPEC)
    assert response.status_code == 200, response.json()
    return ProfileSpec.from_dict(response.json())


def _table(rows: list[dict], shift: timedelta = timedelta(0)) -> pa.Table:
    columns = {
        name: [row.get(name) for row in rows]
        for name in ("income", "region", "score", "latency_ms", "sex", "label")
        if any(name in row for row in rows)
    }
    times = [datetime.fromisoformat(row["timestamp"]) + shift for row in rows]
    return pa.table(
        {"timestamp": pa.array(times, pa.timestamp("us", tz="UTC")), **columns}
    )


def _document(world, rows, batch_id="prof-1", shift=timedelta(0)) -> dict:
    spec = _spec(world)
    windows = profile_table(_table(rows, shift), spec)
    return profiles_document(windows, batch_id=batch_id, spec=spec)


def _post(client, document: dict, *, binary: bool = False):
    if binary:
        return client.generic(
            "POST", PROFILES, encode_binary(document), content_type=BINARY_MEDIA_TYPE
        )
    return client.generic(
        "POST", PROFILES, encode_json(document), content_type="application/json"
    )


@pytest.fixture
def referenced(world):
    upload_reference(world, reference_rows(500))
    return world


def _window_state(window: MonitoringWindow) -> dict:
    features = {
        row.feature: row.profile
        for row in FeatureProfile.objects.filter(window=window).order_by("feature")
    }
    return {
        "prediction_count": window.prediction_count,
        "label_count": window.label_count,
        "latency_count": window.latency_count,
        "score_profile": window.score_profile,
        "latency_profile": window.latency_profile,
        "outcomes": window.outcomes,
        "segments": window.segments,
        "features": features,
        "latency_p99": window.latency_p99,
    }


def _assert_close(left, right, path=""):
    """Equal, floats within the library's stated tolerance (1e-9 relative)."""
    if isinstance(left, dict):
        assert set(left) == set(right), path
        for key in left:
            _assert_close(left[key], right[key], f"{path}.{key}")
    elif isinstance(left, list):
        assert len(left) == len(right), path
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            _assert_close(a, b, f"{path}[{index}]")
    elif isinstance(left, float) or isinstance(right, float):
        assert math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-6), path
    else:
        assert left == right, path


# -- the spec -------------------------------------------------------------------------


def test_the_spec_names_the_features_bins_task_and_segments(referenced):
    spec = _spec(referenced)
    assert spec.kind_of("income") == "numeric"
    assert spec.kind_of("region") == "categorical"
    assert spec.segments == ("sex",)
    assert spec.version == 2
    assert spec.features["region"].categories[:1] == ("north",)


def test_without_a_reference_the_spec_is_a_409(world):
    response = world.client.get(SPEC)
    assert response.status_code == 409
    assert response.json()["code"] == "no_reference"


def test_who_may_read_the_spec_and_push_profiles(referenced, world):
    document = _document(world, prediction_rows(5, start=hour_ago(3)))
    people = [("service", 403), ("reviewer", 403), ("stranger", 404), ("outsider", 404)]
    for person, code in people:
        client = client_for(getattr(world.users, person))
        assert client.get(SPEC).status_code == code, person
        assert _post(client, document).status_code == code, person
    assert not MonitoringBatch.objects.exists()


# -- receipt and merge ---------------------------------------------------------


def test_profiles_are_stored_202_applied_and_audited(
    referenced, django_capture_on_commit_callbacks
):
    world = referenced
    rows = prediction_rows(30, start=hour_ago(3), labels=True)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(world.client, _document(world, rows))

    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["kind"], body["rows"], body["duplicate"]) == ("profiles", 30, False)
    assert [c.__name__ for c in callbacks] == ["enqueue_monitoring_batch"]
    batch = MonitoringBatch.objects.get()
    assert (batch.status, batch.format) == ("applied", "profile_json")
    window = MonitoringWindow.objects.get()
    assert (window.prediction_count, window.profile_rows) == (30, 30)
    assert window.label_count == 30
    assert FeatureProfile.objects.get(window=window, feature="income").count == 30
    event = AuditEvent.objects.get(action="monitoring.profiles_received")
    assert event.payload["rows"] == 30


def test_a_resent_batch_id_is_200_and_other_content_409(
    referenced, django_capture_on_commit_callbacks
):
    world = referenced
    rows = prediction_rows(20, start=hour_ago(3))
    document = _document(world, rows)
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(world.client, document)
        again = _post(world.client, document)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["duplicate"] is True
    assert MonitoringWindow.objects.get().prediction_count == 20

    other = _document(world, rows[:5])
    response = _post(world.client, other)
    assert response.status_code == 409
    assert MonitoringBatch.objects.count() == 1


def test_the_binary_form_gives_the_same_window_as_json(
    referenced, django_capture_on_commit_callbacks
):
    world = referenced
    rows = prediction_rows(25, start=hour_ago(4))
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(world.client, _document(world, rows, "j")).status_code == 202
    json_state = _window_state(MonitoringWindow.objects.get())
    MonitoringWindow.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(world.client, _document(world, rows, "b"), binary=True)
    assert response.status_code == 202, response.json()
    assert MonitoringBatch.objects.get(batch_id="b").format == "profile_bin"
    assert _window_state(MonitoringWindow.objects.get()) == json_state


def _verdicts() -> dict:
    check_all()
    return {
        (r.kind, r.subject): (r.status, r.severity) for r in CheckResult.objects.all()
    }


def _forget_windows() -> None:
    Alert.objects.all().delete()
    CheckResult.objects.all().delete()
    MonitoringWindow.objects.all().delete()


def test_rows_and_a_profile_of_the_same_rows_give_the_same_window_and_verdicts(
    referenced, django_capture_on_commit_callbacks
):
    world = referenced
    rows = prediction_rows(400, start=hour_ago(5), labels=True, income_mean=58_000)
    ingest(world, rows, "rows-1")
    by_rows = MonitoringWindow.objects.get()
    assert by_rows.profile_rows == 0
    rows_state, rows_verdicts = _window_state(by_rows), _verdicts()
    _forget_windows()

    # The same rows, in another order, as a profile built by the client library.
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(world.client, _document(world, rows[::-1]))
    assert response.status_code == 202, response.json()
    by_profile = MonitoringWindow.objects.get()
    assert by_profile.profile_rows == 400
    _assert_close(rows_state, _window_state(by_profile))
    assert rows_verdicts
    assert _verdicts() == rows_verdicts


def test_a_window_fed_by_rows_and_profiles_counts_both(
    referenced, django_capture_on_commit_callbacks
):
    world = referenced
    start = hour_ago(3)
    ingest(world, prediction_rows(10, start=start, prefix="r"), "rows-1")
    with django_capture_on_commit_callbacks(execute=True):
        _post(world.client, _document(world, prediction_rows(7, start=start, seed=3)))
    window = MonitoringWindow.objects.get()
    assert (window.prediction_count, window.profile_rows) == (17, 7)
    assert FeatureProfile.objects.get(window=window, feature="region").count == 17


# -- bad profiles --------------------------------------------------------------


def _bad(document: dict, change) -> dict:
    document = json.loads(json.dumps(document))
    change(document)
    return document


def _first_window(document):
    return document["windows"][0]


BAD = {
    "document version": (
        lambda d: d.update(format_version=9),
        "format_version",
    ),
    "profile version": (
        lambda d: _first_window(d)["features"]["income"].update(version=7),
        "windows[0].features.income",
    ),
    "other bins": (
        lambda d: _first_window(d)["features"]["income"].update(bins_id="0" * 16),
        "windows[0].features.income",
    ),
    "cell count": (
        lambda d: _first_window(d)["features"]["income"]["counts"].append(0),
        "windows[0].features.income",
    ),
    "negative count": (
        lambda d: _first_window(d)["features"]["region"]["counts"].__setitem__(0, -1),
        "windows[0].features.region",
    ),
    "other vocabulary": (
        lambda d: _first_window(d)["features"]["region"]["categories"].reverse(),
        "windows[0].features.region",
    ),
    "unknown feature": (
        lambda d: _first_window(d)["features"].update(age={"kind": "numeric"}),
        "windows[0].features.age",
    ),
    "negative rows": (lambda d: _first_window(d).update(rows=-3), "windows[0].rows"),
    "rows disagree": (lambda d: _first_window(d).update(rows=99), None),
    "not an hour": (
        lambda d: _first_window(d).update(start="2026-01-31T10:30:00Z"),
        "windows[0].start",
    ),
    "unknown segment": (
        lambda d: _first_window(d).update(segments={"age": {"x": {"count": 1}}}),
        "windows[0].segments.age",
    ),
    "other reference": (lambda d: d.update(reference=-1), "reference"),
    "too old": (
        lambda d: _first_window(d).update(start="2020-01-01T00:00:00Z"),
        "windows",
    ),
    "in the future": (
        lambda d: _first_window(d).update(start="2999-01-01T00:00:00Z"),
        "windows",
    ),
    "no windows": (lambda d: d.update(windows=[]), "windows"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_every_bad_profile_is_a_400_naming_it_and_changes_nothing(referenced, case):
    world = referenced
    document = _document(world, prediction_rows(12, start=hour_ago(3)))
    change, field = BAD[case]
    before = monitoring_counts()

    response = _post(world.client, _bad(document, change))

    assert response.status_code == 400, (case, response.json())
    assert response.json()["code"] == "batch_invalid"
    if field is not None:
        assert field in response.json()["fields"], response.json()
    assert monitoring_counts() == before


@pytest.mark.parametrize(
    "raw",
    [
        b'{"format": "gatehouse.profiles", "mean": NaN}',
        b"\x00\x01not json",
        b"[]",
        b'{"format": "gatehouse.profiles", "format_version": 1, "windows": [1e400]}',
    ],
)
def test_unreadable_documents_are_400(referenced, raw):
    response = referenced.client.generic(
        "POST", PROFILES, raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert not MonitoringBatch.objects.exists()


def test_nan_and_infinite_moments_are_refused(referenced):
    world = referenced
    document = _document(world, prediction_rows(12, start=hour_ago(3)))
    text = encode_json(document).decode()
    for bad in ("NaN", "1e400"):
        changed = json.loads(text)
        changed["windows"][0]["features"]["income"]["mean"] = "@@"
        body = json.dumps(changed).replace('"@@"', bad).encode()
        response = world.client.generic(
            "POST", PROFILES, body, content_type="application/json"
        )
        assert response.status_code == 400, bad
    assert not MonitoringBatch.objects.exists()


def test_a_bad_binary_frame_is_400_and_other_media_415(referenced):
    client = referenced.client
    for body in (b"GHPF", b"GHPF\x01\x00" + (10**12).to_bytes(8, "little"), b"xx"):
        response = client.generic(
            "POST", PROFILES, body, content_type=BINARY_MEDIA_TYPE
        )
        assert response.status_code == 400
    response = client.generic("POST", PROFILES, b"{}", content_type="text/csv")
    assert response.status_code == 415


# -- how a window was fed ---------------------------------------------------------


def test_the_windows_api_and_the_dashboard_say_how_each_window_was_fed(
    referenced, client, django_capture_on_commit_callbacks
):
    world = referenced
    ingest(world, prediction_rows(10, start=hour_ago(5), prefix="r"), "rows-1")
    ingest(world, prediction_rows(10, start=hour_ago(4), prefix="s"), "rows-2")
    with django_capture_on_commit_callbacks(execute=True):
        for index, hours in enumerate((4, 3)):
            rows = prediction_rows(6, start=hour_ago(hours), seed=index)
            _post(world.client, _document(world, rows, batch_id=f"p-{hours}"))
    check_all()

    response = world.client.get(f"{BASE}/windows")
    assert response.status_code == 200
    assert [w["fed_by"] for w in response.json()["results"]] == [
        "rows",
        "both",
        "profiles",
    ]

    client.force_login(world.users.requester)
    page = client.get(reverse("monitoring:dashboard", args=[world.deployment.pk]))
    text = page.content.decode()
    assert (
        "Windows fed (3): 1 by rows, 1 by window profiles, "
        "1 by rows and window profiles." in text
    )
    # The statistics shown are the latest checked window's: fed by profiles.
    assert "fed by window profiles</h3>" in text


def test_a_window_opened_under_an_earlier_reference_is_skipped_not_corrupted(
    referenced, django_capture_on_commit_callbacks
):
    world = referenced
    ingest(world, prediction_rows(10, start=hour_ago(4), prefix="r"), "rows-1")
    before = _window_state(MonitoringWindow.objects.get())
    upload_reference(world, reference_rows(300, seed=5))  # a new active reference
    rows = prediction_rows(8, start=hour_ago(4)) + prediction_rows(
        8, start=hour_ago(3), prefix="q"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(world.client, _document(world, rows))
    assert response.status_code == 202, response.json()

    batch = MonitoringBatch.objects.get(kind="profiles")
    assert batch.result["skipped"] == [hour_ago(4).isoformat()]
    old, new = MonitoringWindow.objects.order_by("start")
    assert _window_state(old) == before
    assert (new.prediction_count, new.profile_rows) == (8, 8)
