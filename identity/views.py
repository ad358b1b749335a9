"""Sign in through the OpenID provider, come back, sign out at both ends."""

import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import auth
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.views.decorators.http import require_POST
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from identity import discovery

logger = logging.getLogger("identity.sso")


def _failed(request, message: str, *, status: int = 400):
    return render(
        request,
        "identity/sso_failed.html",
        {"message": message, "provider_name": settings.OIDC_PROVIDER_NAME},
        status=status,
    )


class _DiscoveryGuard:
    """Both flow views: 404 while SSO is off, 502 while the provider's
    metadata cannot be read."""

    get_settings = staticmethod(discovery.oidc_setting)

    def dispatch(self, request, *args, **kwargs):
        if not discovery.is_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            discovery.provider_metadata()
        except discovery.DiscoveryFailed as error:
            logger.error("SSO unavailable: %s", error)
            return _failed(
                request,
                f"{settings.OIDC_PROVIDER_NAME} cannot be reached right now.",
                status=502,
            )
        return super().dispatch(request, *args, **kwargs)


class SsoStartView(_DiscoveryGuard, OIDCAuthenticationRequestView):
    """Redirect to the provider's authorization endpoint with a fresh state,
    nonce and PKCE challenge (S256), kept in the session until the callback."""

    def __init__(self, *args, **kwargs):
        # The library reads the endpoint in __init__, before dispatch can
        # answer "not configured".
        if discovery.is_enabled():
            try:
                super().__init__(*args, **kwargs)
                return
            except discovery.DiscoveryFailed:
                pass
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)


class SsoCallbackView(_DiscoveryGuard, OIDCAuthenticationCallbackView):
    """The provider's redirect back: the state must be one this browser was
    given (and is then spent), the code is exchanged with the PKCE verifier, the
    ID token checked (signature, issuer, audience, expiry, nonce), and the
    person's account, roles and teams set from the claims."""

    def get(self, request):
        try:
            return super().get(request)
        except SuspiciousOperation as error:
            logger.warning("SSO callback refused: %s", error)
            return _failed(request, "The sign-in answer was not valid.")
        except requests.RequestException as error:
            logger.warning("SSO callback failed at the provider: %s", error)
            return _failed(
                request,
                f"{settings.OIDC_PROVIDER_NAME} did not complete the sign-in.",
            )

    def login_failure(self):
        refusal = getattr(self.request, "sso_refusal", None)
        if refusal:
            return _failed(self.request, refusal, status=403)
        error = self.request.GET.get("error")
        if error:
            logger.info("SSO: the provider answered %s", error[:100])
        return _failed(self.request, "The sign-in did not complete.")


@require_POST
def logout(request):
    """Sign out here and, for a person who came through the provider, there
    too (RP-initiated logout, with the ID token as hint)."""
    destination = resolve_url(settings.LOGOUT_REDIRECT_URL)
    id_token = request.session.get("oidc_id_token")
    if request.user.is_authenticated and id_token and discovery.is_enabled():
        try:
            end_session = discovery.provider_metadata().get("end_session_endpoint")
        except discovery.DiscoveryFailed:
            end_session = None
        if end_session:
            query = urlencode(
                {
                    "id_token_hint": id_token,
                    "client_id": settings.OIDC_RP_CLIENT_ID,
                    "post_logout_redirect_uri": request.build_absolute_uri(
                        reverse("login")
                    ),
                }
            )
            destination = f"{end_session}?{query}"
    auth.logout(request)
    return HttpResponseRedirect(destination)
