import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from audit.canonical import (
    canonical_event,
    canonical_json,
    chain_hash,
    format_timestamp,
)


def _fields(**overrides):
    fields = {
        "sequence": 7,
        "timestamp": "2026-11-26T23:59:39.123456Z",
        "actor_id": 42,
        "actor_text": "dana",
        "actor_ip": "10.0.0.1",
        "request_id": "abc",
        "scope": "credit-scoring",
        "action": "model.registered",
        "target_type": "models_registry.registeredmodel",
        "target_id": "3",
        "target_text": "credit-scoring «β»",
        "payload": {"b": [1, 2.5, None], "a": 'é\n"quoted"'},
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(
    "overrides",
    [{}, {"actor_id": None, "actor_ip": None}, {"payload": {}}, {"actor_text": ""}],
)
def test_it_equals_sorted_compact_json_of_the_same_fields(overrides):
    fields = _fields(**overrides)
    payload = fields.pop("payload")
    fast = canonical_event(**fields, payload_json=canonical_json(payload))
    assert fast == canonical_json({**fields, "payload": payload})
    assert json.loads(fast)["payload"] == payload


def test_it_refuses_nan_and_infinity():
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"auc": float("nan")})
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"auc": float("inf")})


def test_timestamps_are_utc_with_six_fraction_digits():
    moment = datetime(2026, 1, 2, 4, 5, 6, tzinfo=timezone(timedelta(hours=3)))
    assert format_timestamp(moment) == "2026-01-02T01:05:06.000000Z"
    assert (
        format_timestamp(datetime(2026, 1, 2, tzinfo=UTC))
        == "2026-01-02T00:00:00.000000Z"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2026, 1, 2))  # noqa: DTZ001


def test_hash_is_sha256_of_prev_hash_and_canonical_text():
    import hashlib

    canonical = '{"a":1}'
    expected = hashlib.sha256(("0" * 64 + canonical).encode()).hexdigest()
    assert chain_hash("0" * 64, canonical) == expected
