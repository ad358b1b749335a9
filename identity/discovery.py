"""The OpenID provider's metadata: ``<OIDC_ISSUER>/.well-known/openid-configuration``.

Fetched on first use and kept for OIDC_DISCOVERY_TTL seconds per process (not at
import or start-up: a portal whose IdP is briefly down still starts, and serves
local and token logins). The document must name the configured issuer exactly
(OpenID Connect Discovery 1.0, section 4.3), or nothing from it is used.
"""

import threading
import time
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_lock = threading.Lock()
_cached: dict[str, Any] = {}

# mozilla-django-oidc's setting names, and the metadata keys that fill them.
ENDPOINT_SETTINGS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


class DiscoveryFailed(ImproperlyConfigured):
    """The provider's metadata could not be read or does not fit."""


def is_enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def discovery_url() -> str:
    return settings.OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration"


def provider_metadata() -> dict[str, Any]:
    """The provider's metadata (cached), or DiscoveryFailed."""
    now = time.monotonic()
    with _lock:
        if _cached and _cached["expires"] > now:
            return _cached["metadata"]
    try:
        response = requests.get(discovery_url(), timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as error:
        raise DiscoveryFailed(
            f"OpenID provider metadata unreadable at {discovery_url()}: {error}"
        ) from error
    if not isinstance(metadata, dict) or metadata.get("issuer") != settings.OIDC_ISSUER:
        raise DiscoveryFailed(
            f"The metadata at {discovery_url()} names issuer "
            f"{metadata.get('issuer') if isinstance(metadata, dict) else None!r}, "
            f"not OIDC_ISSUER {settings.OIDC_ISSUER!r}."
        )
    missing = [
        key
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(metadata.get(key), str)
    ]
    if missing:
        raise DiscoveryFailed(f"The provider's metadata lacks {', '.join(missing)}.")
    with _lock:
        _cached.update(metadata=metadata, expires=now + settings.OIDC_DISCOVERY_TTL)
    return metadata


def forget() -> None:
    """Drop the cached metadata (tests; a provider whose keys moved)."""
    with _lock:
        _cached.clear()


def oidc_setting(attr: str, *default):
    """A mozilla-django-oidc setting: the endpoints come from discovery, the
    rest from Django's settings (the library's ``get_settings`` hook)."""
    if attr in ENDPOINT_SETTINGS:
        value = provider_metadata().get(ENDPOINT_SETTINGS[attr])
        if value is None and default:
            return default[0]
        return value
    if default:
        return getattr(settings, attr, default[0])
    try:
        return getattr(settings, attr)
    except AttributeError as error:
        raise ImproperlyConfigured(f"Setting {attr} not found") from error
