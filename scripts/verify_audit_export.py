#!/usr/bin/env python3
"""Verify an exported range of Gatehouse audit events against two signed checkpoints.

Needs Python 3.11+ and the ``cryptography`` package; no database, no Gatehouse
code. Usage (see docs/audit-checkpoints.md)::

    python verify_audit_export.py --public-key audit-public-key.pem \\
        --checkpoints audit-checkpoints.json --from 120 --to 480 \\
        --events audit-events-120-480.jsonl

It checks that

1. both checkpoints (``--from`` and ``--to``, by event sequence) are in the
   checkpoints file and carry a valid Ed25519 signature by the given public key
   (``--from 0`` starts at the beginning of the chain, which needs no signature);
2. the events file holds exactly the events ``from+1 .. to``, in order, each
   linking to the previous one's hash (the first to the first checkpoint's hash)
   and each hash recomputing from the event's columns;
3. the last event is the second checkpoint's event, with its hash.

It prints a verdict and exits 0 when everything holds, 1 when anything does not,
and 2 when the input cannot be read: a file that is missing or malformed (a key
that is not PEM, checkpoints that are not the export's JSON, an events line that
is not a JSON object with every column of the right type).
"""

import argparse
import base64
import binascii
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS_HASH = "0" * 64
CHECKPOINT_PURPOSE = "gatehouse-audit-checkpoint/1"
EVENT_KEYS = (
    "sequence",
    "timestamp",
    "actor_id",
    "actor_text",
    "actor_ip",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target_text",
    "scope",
    "payload_json",
    "prev_hash",
    "hash",
)


class Failed(Exception):
    """The export does not verify."""


class Unreadable(Exception):
    """An input file is missing or malformed."""


# --- The canonical forms (copied from Gatehouse's audit/canonical.py) ---------------

_dumps_string = json.JSONEncoder(ensure_ascii=False).encode


def canonical_json(value) -> str:
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def _optional_string(value) -> str:
    return "null" if value is None else _dumps_string(value)


def canonical_event(event: dict) -> str:
    """The event's canonical JSON text, keys in sorted order, payload verbatim."""
    actor_id = event["actor_id"]
    return (
        '{"action":' + _dumps_string(event["action"])
        + ',"actor_id":' + ("null" if actor_id is None else str(int(actor_id)))
        + ',"actor_ip":' + _optional_string(event["actor_ip"])
        + ',"actor_text":' + _dumps_string(event["actor_text"])
        + ',"payload":' + event["payload_json"]
        + ',"request_id":' + _dumps_string(event["request_id"])
        + ',"scope":' + _dumps_string(event["scope"])
        + ',"sequence":' + str(int(event["sequence"]))
        + ',"target_id":' + _dumps_string(event["target_id"])
        + ',"target_text":' + _dumps_string(event["target_text"])
        + ',"target_type":' + _dumps_string(event["target_type"])
        + ',"timestamp":' + _dumps_string(event["timestamp"])
        + "}"
    )  # fmt: skip


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def checkpoint_message(checkpoint: dict) -> bytes:
    return canonical_json(
        {
            "hash": checkpoint["hash"],
            "purpose": CHECKPOINT_PURPOSE,
            "sequence": int(checkpoint["sequence"]),
            "time": checkpoint["time"],
        }
    ).encode("utf-8")


# --- Reading the inputs ---------------------------------------------------------


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise Unreadable(f"cannot read the public key {path}: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise Unreadable(f"{path} is not an Ed25519 public key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_checkpoints(path: Path) -> dict[int, dict]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        checkpoints = document["checkpoints"]
        return {int(item["sequence"]): item for item in checkpoints}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise Unreadable(f"cannot read the checkpoints {path}: {error}") from error


def check_checkpoint(
    checkpoints: dict[int, dict], sequence: int, key: Ed25519PublicKey, role: str
) -> dict:
    """Return the checkpoint at ``sequence`` after checking its signature."""
    if sequence == 0 and role == "first":
        return {"sequence": 0, "hash": GENESIS_HASH}
    checkpoint = checkpoints.get(sequence)
    if checkpoint is None:
        raise Failed(f"the {role} checkpoint (event {sequence}) is not in the file")
    if checkpoint.get("key_id") != key_id(key):
        raise Failed(
            f"the {role} checkpoint (event {sequence}) was signed by key "
            f"{checkpoint.get('key_id')}, not by the given public key {key_id(key)}"
        )
    try:
        signature = base64.b64decode(checkpoint["signature"], validate=True)
        key.verify(signature, checkpoint_message(checkpoint))
    except (InvalidSignature, binascii.Error, ValueError, KeyError, TypeError):
        raise Failed(
            f"the {role} checkpoint (event {sequence}) has an invalid signature"
        ) from None
    return checkpoint


def read_events(path: Path):
    """Yield (line number, event dict) from a JSON lines file."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise Unreadable(f"cannot read the events {path}: {error}") from error
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError as error:
                raise Unreadable(
                    f"cannot read the events {path}: line {number} is not JSON: {error}"
                ) from error
            if not isinstance(event, dict):
                raise Unreadable(
                    f"cannot read the events {path}: line {number} is not a JSON object"
                )
            missing = [name for name in EVENT_KEYS if name not in event]
            if missing:
                raise Unreadable(
                    f"cannot read the events {path}: line {number} lacks the "
                    f"columns {missing}"
                )
            yield number, event


# --- Verifying ------------------------------------------------------------------


def verify(args: argparse.Namespace) -> str:
    """Return a success message, or raise Failed / Unreadable."""
    if args.from_sequence >= args.to_sequence:
        raise Unreadable("--from must be smaller than --to")
    key = load_public_key(args.public_key)
    checkpoints = load_checkpoints(args.checkpoints)
    first = check_checkpoint(checkpoints, args.from_sequence, key, "first")
    second = check_checkpoint(checkpoints, args.to_sequence, key, "second")

    expected_sequence = args.from_sequence + 1
    running_hash = first["hash"]
    count = 0
    for number, event in read_events(args.events):
        sequence = event["sequence"]
        where = f"line {number} (event {sequence})"
        if expected_sequence > second["sequence"]:
            raise Failed(
                f"{where}: the range goes past the second checkpoint "
                f"(event {second['sequence']})"
            )
        if sequence != expected_sequence:
            raise Failed(
                f"{where}: expected event {expected_sequence} next: an event is "
                "missing, repeated or out of order"
            )
        if event["prev_hash"] != running_hash:
            raise Failed(
                f"{where}: its prev_hash is not the previous event's hash "
                f"({running_hash})"
            )
        try:
            computed = chain_hash(running_hash, canonical_event(event))
        except (TypeError, ValueError) as error:
            raise Unreadable(
                f"cannot read the events {args.events}: {where}: a column has the "
                f"wrong type: {error}"
            ) from error
        if computed != event["hash"]:
            raise Failed(
                f"{where}: its columns do not hash to its recorded hash: the event "
                "was changed"
            )
        running_hash = computed
        expected_sequence += 1
        count += 1

    last = expected_sequence - 1
    if last != second["sequence"]:
        raise Failed(
            f"the range ends at event {last}, before the second checkpoint "
            f"(event {second['sequence']}): events are missing"
        )
    if running_hash != second["hash"]:
        raise Failed(
            f"the chain ends on hash {running_hash}, not the second checkpoint's "
            f"hash {second['hash']}"
        )
    start = (
        "the start of the chain"
        if args.from_sequence == 0
        else f"signed checkpoint {first['sequence']} ({first['hash']})"
    )
    return (
        f"VERIFIED: {count} events ({args.from_sequence + 1} to {last}) chain from "
        f"{start} to signed checkpoint {second['sequence']} ({second['hash']}), "
        f"signed by key {key_id(key)}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Verify exported Gatehouse audit events against two signed "
        "checkpoints, without database access."
    )
    parser.add_argument(
        "--public-key", type=Path, required=True, help="the portal's public key (PEM)"
    )
    parser.add_argument(
        "--checkpoints",
        type=Path,
        required=True,
        help="the exported checkpoints (JSON)",
    )
    parser.add_argument(
        "--from",
        dest="from_sequence",
        type=int,
        required=True,
        help="sequence of the first checkpoint (0: the start of the chain)",
    )
    parser.add_argument(
        "--to",
        dest="to_sequence",
        type=int,
        required=True,
        help="sequence of the second checkpoint",
    )
    parser.add_argument(
        "--events", type=Path, required=True, help="the exported events (JSON lines)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        print(verify(args))
    except Failed as failure:
        print(f"FAILED: {failure}")
        return 1
    except Unreadable as problem:
        print(f"ERROR: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
