"""The format of personal API tokens: ``gh_<prefix>_<secret>``.

The prefix (public, 10 characters) finds the row; the SHA-256 digest of the whole
token proves it. A token carries 256 bits of randomness, so a fast hash is safe.
"""

import hashlib
import re
import secrets

TOKEN_PATTERN = re.compile(
    r"^gh_(?P<prefix>[a-z0-9]{10})_(?P<secret>[A-Za-z0-9_-]{43})$"
)
_PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def generate_token() -> tuple[str, str, str]:
    """Return (plaintext, prefix, digest) for a new token."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(10))
    plaintext = f"gh_{prefix}_{secrets.token_urlsafe(32)}"
    return plaintext, prefix, token_digest(plaintext)


def token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def token_prefix(plaintext: str) -> str | None:
    match = TOKEN_PATTERN.match(plaintext)
    return match["prefix"] if match else None
