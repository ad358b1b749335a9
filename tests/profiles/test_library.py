"""The profile library on its own (``gatehouse_client.profile``, no Django, no
database): window profiles of a table, merge laws, the stated floating-point
tolerance, the wire document (JSON and binary) and the validation of a
received profile."""

import json
import os
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from gatehouse_client.profile import (
    CategoricalProfile,
    NumericProfile,
    ProfileInvalid,
    ProfileSpec,
    WindowProfile,
    decode_binary,
    document_header,
    encode_binary,
    encode_json,
    merge_windows,
    profile_table,
    profiles_document,
    read_windows,
)

START = datetime(2026, 1, 31, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def spec() -> ProfileSpec:
    rng = np.random.default_rng(1)
    return ProfileSpec(
        features={
            "income": NumericProfile.from_reference(rng.normal(50, 10, 3000)),
            "region": CategoricalProfile.from_reference(
                rng.choice(["north", "south", "east"], 3000)
            ),
        },
        task="binary_classification",
        decision_threshold=0.5,
        segments=("sex",),
        version=2,
        reference=7,
    )


def _table(rows: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, 3 * 3600, rows)
    income = rng.normal(55, 12, rows)
    income[rng.random(rows) < 0.05] = np.nan
    region = rng.choice(["north", "south", "east", "west", "far-away"], rows)
    regions = [None if rng.random() < 0.03 else str(r) for r in region]
    return pa.table(
        {
            "timestamp": pa.array(
                [START + timedelta(seconds=int(s)) for s in seconds],
                pa.timestamp("us", tz="UTC"),
            ),
            "income": income,
            "region": regions,
            "score": rng.random(rows),
            "latency_ms": rng.gamma(2.0, 20.0, rows),
            "label": rng.integers(0, 2, rows),
            "sex": rng.choice(["female", "male"], rows),
            "unrelated": np.zeros(rows),
        }
    )


def _split(table: pa.Table, parts: int, seed: int) -> list[pa.Table]:
    order = list(range(table.num_rows))
    random.Random(seed).shuffle(order)
    shuffled = table.take(pa.array(order))
    size = -(-table.num_rows // parts)
    return [shuffled.slice(i * size, size) for i in range(parts)]


def test_a_table_is_profiled_hour_by_hour_with_every_part(spec):
    windows = profile_table(_table(3000), spec)

    assert [w.start for w in windows] == [START + timedelta(hours=h) for h in range(3)]
    assert sum(w.rows for w in windows) == 3000
    first = windows[0]
    assert set(first.features) == {"income", "region"}
    assert first.features["income"].missing > 0
    region = first.features["region"]
    assert region.other > 0  # "west" and "far-away" are in the tail sketch
    assert region.total == first.rows
    assert first.score.count == first.latency.count == first.rows
    assert first.labelled == first.outcomes["n"] == first.rows
    assert set(first.segments["sex"]) == {"female", "male"}


@pytest.mark.parametrize("parts", [2, 4, 7])
def test_merged_partial_profiles_equal_the_whole_within_the_tolerance(spec, parts):
    whole = profile_table(_table(3000), spec)
    pieces = [
        w
        for part in _split(_table(3000), parts, parts)
        for w in profile_table(part, spec)
    ]
    merged = merge_windows(pieces)

    assert [w.hour for w in merged] == [w.hour for w in whole]
    for left, right in zip(merged, whole, strict=True):
        assert left.differences(right) == []
        # Counts are exact, not merely close.
        assert (
            left.features["income"].counts.tolist()
            == right.features["income"].counts.tolist()
        )
        assert (
            left.features["region"].tail.tolist()
            == right.features["region"].tail.tolist()
        )


def test_merge_is_commutative_and_associative(spec):
    a, b, c = (profile_table(part, spec)[0] for part in _split(_table(900), 3, 5))
    a, b, c = (WindowProfile.from_dict(w.to_dict(), spec) for w in (a, b, c))
    assert a.merge(b).differences(b.merge(a)) == []
    assert a.merge(b).merge(c).differences(a.merge(b.merge(c))) == []
    # Numeric moments: a.merge(b) and b.merge(a) are bit-identical.
    assert a.merge(b).to_dict() == b.merge(a).to_dict()


def test_differences_names_what_differs(spec):
    window = profile_table(_table(500), spec)[0]
    other = profile_table(_table(500, seed=9), spec)[0]
    assert window.differences(other)
    assert window.differences(window) == []


def test_windows_of_different_hours_do_not_merge(spec):
    first, second = profile_table(_table(500), spec)[:2]
    with pytest.raises(ValueError, match="different hours"):
        first.merge(second)


def test_the_document_round_trips_in_json_and_binary(spec):
    windows = profile_table(_table(2000), spec)
    document = profiles_document(windows, batch_id="b-1", spec=spec)
    assert document["reference"] == 7
    assert document["version"] == 2

    text = encode_json(document)
    binary = encode_binary(document)
    assert len(binary) < len(text)
    assert decode_binary(binary, max_bytes=len(text)) == text
    again = json.loads(text)
    assert document_header(again).batch_id == "b-1"
    for left, right in zip(read_windows(again, spec), windows, strict=True):
        assert left.differences(right) == []


def test_the_spec_round_trips(spec):
    again = ProfileSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again.to_dict() == spec.to_dict()
    table = _table(300)
    assert (
        profile_table(table, again)[0].differences(profile_table(table, spec)[0]) == []
    )


def test_an_oversized_binary_frame_is_refused_before_decompressing(spec):
    binary = encode_binary(
        profiles_document(profile_table(_table(50), spec), batch_id="b")
    )
    with pytest.raises(ProfileInvalid, match="too large"):
        decode_binary(binary, max_bytes=10)


def _window_dict(spec):
    return profile_table(_table(400), spec)[0].to_dict()


BAD = {
    "profile version": (
        lambda w: w["features"]["income"].update(version=3),
        "features.income",
    ),
    "other bins": (
        lambda w: w["features"]["income"].update(bins_id="x"),
        "features.income",
    ),
    "negative count": (
        lambda w: w["features"]["region"]["counts"].__setitem__(0, -2),
        "features.region",
    ),
    "NaN mean": (
        lambda w: w["features"]["income"].update(mean=float("nan")),
        "features.income",
    ),
    "infinite m2": (
        lambda w: w["features"]["income"].update(m2=float("inf")),
        "features.income",
    ),
    "unknown feature": (lambda w: w["features"].update(age={}), "features.age"),
    "score on other bins": (lambda w: w["score"].update(bins_id="y"), "score"),
    "outcomes disagree": (lambda w: w["outcomes"].update(tp=10**6), "outcomes"),
    "segment part over whole": (
        lambda w: w["segments"]["sex"]["female"].update(positive=10**6),
        "segments.sex.female",
    ),
    "scored without sums": (lambda w: w["outcomes"].pop("brier_sum"), "outcomes"),
    "unknown field": (lambda w: w.update(extra=1), "extra"),
    "rows a text": (lambda w: w.update(rows="12"), "rows"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_window_is_refused_naming_the_field(spec, case):
    change, field = BAD[case]
    window = _window_dict(spec)
    change(window)
    with pytest.raises(ProfileInvalid) as raised:
        WindowProfile.from_dict(window, spec)
    assert field in raised.value.fields, raised.value.fields


def test_a_wrong_document_version_is_refused(spec):
    document = profiles_document(profile_table(_table(50), spec), batch_id="b")
    document["format_version"] = 2
    with pytest.raises(ProfileInvalid) as raised:
        document_header(document)
    assert "format_version" in raised.value.fields


def test_a_table_without_timestamps_or_with_wrong_types_is_refused(spec):
    with pytest.raises(ProfileInvalid):
        profile_table(pa.table({"income": [1.0]}), spec)
    with pytest.raises(ProfileInvalid):
        profile_table(
            pa.table(
                {
                    "timestamp": pa.array([START], pa.timestamp("us", tz="UTC")),
                    "income": ["not a number"],
                }
            ),
            spec,
        )


def test_the_library_imports_no_django_and_no_portal_code():
    code = (
        "import sys, gatehouse_client.profile\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'rest_framework', 'kernel', 'monitoring', 'portal'})\n"
        "print(bad)"
    )
    env = {key: value for key, value in os.environ.items() if "DJANGO" not in key}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd="/",
    )
    assert result.stdout.strip() == "[]"
