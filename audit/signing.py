"""The portal's Ed25519 signing key and the signed checkpoint message.

The key comes from the ``AUDIT_SIGNING_KEY`` setting (environment variable): the
32-byte raw Ed25519 private key in base64, or a PEM (PKCS#8) private key such as
``openssl genpkey -algorithm ed25519`` writes. With DEBUG on and no key set, a key
is generated once into ``var/audit-signing-key`` (mode 0600) so that a development
portal can sign; with DEBUG off and no key, signing is refused with
``AuditSigningKeyUnavailable`` and everything else keeps working.

The signed message of a checkpoint is the canonical JSON object (sorted keys, no
whitespace, UTF-8)::

    {"hash":"<64 hex>","purpose":"gatehouse-audit-checkpoint/1",
     "sequence":<integer>,"time":"YYYY-MM-DDTHH:MM:SS.ffffffZ"}

written on one line. ``scripts/verify_audit_export.py`` builds the same bytes.
"""

import base64
import binascii
import contextlib
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings

from audit.canonical import canonical_json
from audit.errors import AuditError

CHECKPOINT_PURPOSE = "gatehouse-audit-checkpoint/1"
DEVELOPMENT_KEY_NAME = "audit-signing-key"


class AuditSigningKeyUnavailable(AuditError):
    """No usable signing key: checkpoints cannot be signed."""

    code = "audit_signing_key_unavailable"
    status_code = 503


def checkpoint_message(*, sequence: int, head_hash: str, time: str) -> bytes:
    """Return the exact bytes signed for a checkpoint."""
    return canonical_json(
        {
            "hash": head_hash,
            "purpose": CHECKPOINT_PURPOSE,
            "sequence": int(sequence),
            "time": time,
        }
    ).encode("utf-8")


def parse_private_key(text: str) -> Ed25519PrivateKey:
    """Read a base64 raw 32-byte key or a PEM private key; never echo the key."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        # An environment variable often carries a PEM with escaped newlines.
        pem = text.replace("\\n", "\n").encode("ascii")
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as error:
            raise AuditSigningKeyUnavailable(
                "AUDIT_SIGNING_KEY is not a readable unencrypted PEM private key."
            ) from error
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditSigningKeyUnavailable(
                "AUDIT_SIGNING_KEY is a PEM key but not an Ed25519 key."
            )
        return key
    raw = None
    for altchars in (None, b"-_"):  # standard, then URL-safe base64
        try:
            raw = base64.b64decode(text, altchars=altchars, validate=True)
            break
        except (binascii.Error, ValueError):
            continue
    if raw is None:
        raise AuditSigningKeyUnavailable(
            "AUDIT_SIGNING_KEY is neither base64 nor a PEM private key."
        )
    if len(raw) != 32:
        raise AuditSigningKeyUnavailable(
            f"AUDIT_SIGNING_KEY decodes to {len(raw)} bytes; an Ed25519 private key "
            "is 32 bytes."
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def _development_key(path: Path) -> Ed25519PrivateKey:
    """Load the development key, creating it (mode 0600) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Write a private temporary file, then link it into place: the link fails
        # if another process got there first, and nobody ever sees half a key.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
            # Another process created the key first: use theirs.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return parse_private_key(path.read_text())


def signing_key() -> Ed25519PrivateKey:
    """Return the portal's signing key, or raise AuditSigningKeyUnavailable."""
    configured = getattr(settings, "AUDIT_SIGNING_KEY", "")
    if configured:
        return parse_private_key(configured)
    if settings.DEBUG:
        return _development_key(Path(settings.VAR_DIR) / DEVELOPMENT_KEY_NAME)
    raise AuditSigningKeyUnavailable(
        "No audit signing key: set AUDIT_SIGNING_KEY (see .env.example and "
        "docs/audit-checkpoints.md). Checkpoints are not signed until it is set."
    )


def public_key_raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's fingerprint: sha256 of the raw 32-byte public key, in hex."""
    return hashlib.sha256(public_key_raw(public_key)).hexdigest()


def sign(private_key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message)).decode("ascii")


def signature_is_valid(
    public_key: Ed25519PublicKey, message: bytes, signature: str
) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
