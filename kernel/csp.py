"""django-csp's middleware, with the portal's policy built once.

django-csp builds both policy headers from the settings on every response (two
``build_policy`` calls, each after a ``dataclasses.asdict``): about 0.1 ms, a
sixth of the server's time on a fast API read. The header is the same for every
response that used no nonce and carries no per-view override (django-csp's
``csp_update``/``csp_replace``/``csp`` decorators), so for those it is built
once per settings and reused; any other response goes through django-csp
itself. What decides whether a header is set (already set, exempted, an
excluded URL prefix, DEBUG's error pages) is django-csp's own logic, kept here
line for line; a test compares the headers of both on every kind of response.
"""

import http.client as http_client
from functools import cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

_OVERRIDES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_DEBUG_EXEMPT = (http_client.INTERNAL_SERVER_ERROR, http_client.NOT_FOUND)


@cache
def _headers() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(header, value, exemption attribute, excluded URL prefixes) of the
    enforced and the report-only policy, for the current settings."""
    found = []
    for header, setting, exempt, report_only in (
        (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
        (
            HEADER_REPORT_ONLY,
            "CONTENT_SECURITY_POLICY_REPORT_ONLY",
            "_csp_exempt_ro",
            True,
        ),
    ):
        value = build_policy(report_only=report_only)
        if value:
            policy = getattr(settings, setting, None) or {}
            prefixes = tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ())
            found.append((header, value, exempt, prefixes))
    return tuple(found)


@receiver(setting_changed)
def _forget_headers(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _headers.cache_clear()


class CachedPolicyCSPMiddleware(CSPMiddleware):
    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _OVERRIDES
        ):
            return super().process_response(request, response)
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response
        for header, value, exempt, prefixes in _headers():
            if (
                header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
