"""scripts/verify_audit_export.py, run as a subprocess on real exports."""

import ast
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from audit.services import audit_checkpoint_create
from tests.audit.helpers import login_quietly, record_events

pytestmark = pytest.mark.django_db

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_audit_export.py"


def _download(client, name, query=None) -> bytes:
    response = client.get(reverse(name), query or {})
    assert response.status_code == 200
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def exported(client, auditor, signing_key_b64, tmp_path):
    """Checkpoints at events 3, 5 and 9; the files an auditor hands over."""
    record_events(3, actor_text="dana")
    audit_checkpoint_create()
    record_events(2, action="model.registered", scope="credit-scoring")
    audit_checkpoint_create()
    record_events(4, actor_text="«β» unicode")
    audit_checkpoint_create()
    login_quietly(client, auditor)
    (tmp_path / "key.pem").write_bytes(_download(client, "audit:checkpoint-public-key"))
    (tmp_path / "checkpoints.json").write_bytes(
        _download(client, "audit:checkpoint-export")
    )
    for start, end in ((3, 9), (0, 9), (3, 5)):
        (tmp_path / f"events-{start}-{end}.jsonl").write_bytes(
            _download(
                client,
                "audit:checkpoint-range-export",
                {"from_sequence": start, "to_sequence": end},
            )
        )
    return tmp_path


def run_script(folder, *, start=3, end=9, events=None, key="key.pem"):
    events = events or f"events-{start}-{end}.jsonl"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [
            sys.executable,
            "-I",  # no PYTHONPATH, no current directory: the script stands alone
            str(SCRIPT),
            "--public-key",
            str(folder / key),
            "--checkpoints",
            str(folder / "checkpoints.json"),
            "--from",
            str(start),
            "--to",
            str(end),
            "--events",
            str(folder / events),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=folder,
    )


def _edit_lines(folder, name, edit) -> str:
    path = folder / name
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    lines = edit(lines)
    tampered = folder / f"tampered-{name}"
    tampered.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    )
    return tampered.name


def test_script_uses_only_the_standard_library_and_cryptography():
    tree = ast.parse(SCRIPT.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


def test_an_untampered_range_verifies(exported):
    result = run_script(exported)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("VERIFIED: 6 events (4 to 9) chain from signed")


def test_a_range_from_the_start_of_the_chain_verifies(exported):
    result = run_script(exported, start=0)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VERIFIED: 9 events (1 to 9) chain from the start of the chain" in (
        result.stdout
    )


def test_a_tampered_event_fails(exported):
    def edit(lines):
        lines[2]["actor_text"] = "mallory"
        return lines

    result = run_script(
        exported, events=_edit_lines(exported, "events-3-9.jsonl", edit)
    )
    assert result.returncode == 1
    assert result.stdout.strip() == (
        "FAILED: line 3 (event 6): its columns do not hash to its recorded hash: "
        "the event was changed"
    )


def test_a_tampered_event_with_a_recomputed_hash_fails_at_the_next_link(exported):
    def edit(lines):
        lines[2]["payload_json"] = '{"index":99}'
        lines[2]["hash"] = "f" * 64
        return lines

    result = run_script(
        exported, events=_edit_lines(exported, "events-3-9.jsonl", edit)
    )
    assert result.returncode == 1
    assert "FAILED: line 3 (event 6)" in result.stdout


def test_a_missing_event_fails(exported):
    result = run_script(
        exported,
        events=_edit_lines(
            exported, "events-3-9.jsonl", lambda lines: lines[:1] + lines[2:]
        ),
    )
    assert result.returncode == 1
    assert result.stdout.strip() == (
        "FAILED: line 2 (event 6): expected event 5 next: an event is missing, "
        "repeated or out of order"
    )


def test_a_wrong_checkpoint_signature_fails(exported):
    path = exported / "checkpoints.json"
    document = json.loads(path.read_text())
    signature = bytearray(base64.b64decode(document["checkpoints"][2]["signature"]))
    signature[0] ^= 1
    document["checkpoints"][2]["signature"] = base64.b64encode(signature).decode()
    path.write_text(json.dumps(document))
    result = run_script(exported)
    assert result.returncode == 1
    assert result.stdout.strip() == (
        "FAILED: the second checkpoint (event 9) has an invalid signature"
    )


def test_a_checkpoint_whose_hash_was_changed_fails_its_signature(exported):
    path = exported / "checkpoints.json"
    document = json.loads(path.read_text())
    document["checkpoints"][0]["hash"] = "0" * 64
    path.write_text(json.dumps(document))
    result = run_script(exported)
    assert result.returncode == 1
    assert "the first checkpoint (event 3) has an invalid signature" in result.stdout


def test_checkpoints_signed_by_another_key_fail(exported):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate().public_key()
    (exported / "other.pem").write_bytes(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    result = run_script(exported, key="other.pem")
    assert result.returncode == 1
    assert "the first checkpoint (event 3) was signed by key" in result.stdout


def test_a_range_that_stops_short_of_the_second_checkpoint_fails(exported):
    truncated = _edit_lines(exported, "events-3-9.jsonl", lambda lines: lines[:-1])
    result = run_script(exported, events=truncated)
    assert result.returncode == 1
    assert result.stdout.strip() == (
        "FAILED: the range ends at event 8, before the second checkpoint (event 9): "
        "events are missing"
    )


def test_a_range_exported_to_an_earlier_checkpoint_does_not_reach_a_later_one(
    exported,
):
    result = run_script(exported, start=3, end=9, events="events-3-5.jsonl")
    assert result.returncode == 1
    assert "the range ends at event 5, before the second checkpoint (event 9)" in (
        result.stdout
    )


def test_a_range_that_runs_past_the_second_checkpoint_fails(exported):
    result = run_script(exported, start=3, end=5, events="events-3-9.jsonl")
    assert result.returncode == 1
    assert result.stdout.strip() == (
        "FAILED: line 3 (event 6): the range goes past the second checkpoint (event 5)"
    )


def test_a_checkpoint_missing_from_the_file_fails(exported):
    result = run_script(exported, start=4, end=9)
    assert result.returncode == 1
    assert "the first checkpoint (event 4) is not in the file" in result.stdout


def test_unreadable_input_exits_2(exported):
    (exported / "broken.pem").write_text("not a key")
    result = run_script(exported, key="broken.pem")
    assert result.returncode == 2
    assert "ERROR: cannot read the public key" in result.stderr


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "line 2 is not JSON"),
        ("[1, 2, 3]", "line 2 is not a JSON object"),
        ('{"sequence": 5}', "line 2 lacks the columns"),
    ],
)
def test_a_malformed_events_file_exits_2_as_documented(exported, line, problem):
    good = (exported / "events-3-9.jsonl").read_text().splitlines()
    (exported / "malformed.jsonl").write_text(
        "\n".join([good[0], line, *good[2:]]) + "\n"
    )
    result = run_script(exported, events="malformed.jsonl")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("ERROR: cannot read the events ")
    assert problem in result.stderr


def test_an_event_column_of_the_wrong_type_exits_2(exported):
    def edit(lines):
        lines[1]["actor_id"] = "not a number"
        return lines

    result = run_script(
        exported, events=_edit_lines(exported, "events-3-9.jsonl", edit)
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "line 2 (event 5): a column has the wrong type" in result.stderr


def test_a_malformed_checkpoints_file_exits_2(exported):
    (exported / "checkpoints.json").write_text('{"checkpoints": 7}')
    result = run_script(exported)
    assert result.returncode == 2
    assert "ERROR: cannot read the checkpoints" in result.stderr
