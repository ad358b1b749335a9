"""Fixtures for the auditor's pages."""

import base64
import os

import pytest


@pytest.fixture
def signing_key_b64(settings):
    """Configure a fresh Ed25519 signing key (base64 of 32 raw bytes)."""
    key = base64.b64encode(os.urandom(32)).decode("ascii")
    settings.AUDIT_SIGNING_KEY = key
    return key
