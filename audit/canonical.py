"""The canonical serialisation of an audit event and its hash.

This module is the specification an outside verifier follows; docs/audit-hash.md
says the same in prose. It imports nothing from Django so that it can be copied.

An event is hashed as::

    hash = sha256(utf8(prev_hash + canonical_event)).hexdigest()

where ``prev_hash`` is the previous event's hash as 64 lowercase hex digits (64
zeros for the first event) and ``canonical_event`` is a JSON object with exactly
these keys, sorted, no whitespace (``separators=(",", ":")``), non-ASCII
characters written as themselves (``ensure_ascii=False``)::

    action       dotted name, e.g. "model.registered"
    actor_id     the user's id as an integer, or null
    actor_ip     the client address as a string, or null
    actor_text   a frozen description of who acted (username), or ""
    payload      the event's JSON payload, itself canonical (sorted keys, no
                 whitespace, ensure_ascii=False; NaN and Infinity are refused)
    request_id   the request id as a string, or ""
    scope        the slug of the registered model the event belongs to, or ""
    sequence     the event's position in the chain, 1, 2, 3, ... as an integer
    target_id    the target's id as a string, or ""
    target_text  a frozen description of the target, or ""
    target_type  the target's type (e.g. "models_registry.modelversion"), or ""
    timestamp    UTC time as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always 6 digits)

The payload is stored as the exact canonical text that was hashed, so the hash
never depends on how a database re-encodes JSON numbers.
"""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The C-accelerated string encoder behind json.dumps(..., ensure_ascii=False).
_dumps_string = json.encoder.encode_basestring


def canonical_json(value: Any) -> str:
    """Serialise a JSON value canonically; raise ValueError on NaN or Infinity."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def format_timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _optional_string(value: str | None) -> str:
    return "null" if value is None else _dumps_string(value)


def canonical_event_parts(
    *,
    actor_id: int | None,
    actor_text: str,
    actor_ip: str | None,
    request_id: str,
    scope: str,
    action: str,
    target_type: str,
    target_id: str,
    target_text: str,
    payload_json: str,
) -> tuple[str, str]:
    """Return (head, middle) such that the canonical event is
    ``head + str(sequence) + middle + timestamp + '"}'``.

    The two values decided under the chain lock (sequence and timestamp) come
    last in sorted key order but one, so PostgreSQL can finish the text inside
    its append function (migration 0005) while everything else is built here.
    """
    head = (
        '{"action":' + _dumps_string(action)
        + ',"actor_id":' + ("null" if actor_id is None else str(int(actor_id)))
        + ',"actor_ip":' + _optional_string(actor_ip)
        + ',"actor_text":' + _dumps_string(actor_text)
        + ',"payload":' + payload_json
        + ',"request_id":' + _dumps_string(request_id)
        + ',"scope":' + _dumps_string(scope)
        + ',"sequence":'
    )  # fmt: skip
    middle = (
        ',"target_id":' + _dumps_string(target_id)
        + ',"target_text":' + _dumps_string(target_text)
        + ',"target_type":' + _dumps_string(target_type)
        + ',"timestamp":"'
    )  # fmt: skip
    return head, middle


def canonical_event(*, sequence: int, timestamp: str, **fields) -> str:
    """Build the canonical event text (the keyword arguments of
    ``canonical_event_parts`` plus sequence and the formatted timestamp).

    Written out by hand, in sorted key order, because verification runs over
    millions of rows; ``tests/audit/test_canonical.py`` proves it equals
    ``canonical_json`` of the same dictionary.
    """
    head, middle = canonical_event_parts(**fields)
    return head + str(int(sequence)) + middle + timestamp + '"}'


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()
