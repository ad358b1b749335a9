"""Authentication backends: OpenID Connect (mozilla-django-oidc, with discovery,
issuer, audience and expiry checks added) and local passwords (switched off by
LOCAL_LOGIN=0 except for a break-glass superuser)."""

import logging

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from audit.services import audit_record
from identity import discovery
from identity.errors import LoginRefused
from identity.services import sso_login

logger = logging.getLogger("identity.sso")


class TokenRejected(SuspiciousOperation):
    """The provider's answer failed a check: nobody is signed in."""


class OidcBackend(OIDCAuthenticationBackend):
    """The authorization-code flow of mozilla-django-oidc (state, nonce, PKCE,
    signature against the provider's JWKS), plus what it leaves out: endpoints
    from discovery, and the ``iss``, ``aud``/``azp``, ``exp`` and ``iat`` checks
    of OpenID Connect Core 3.1.3.7. Claims are the ID token's, completed by the
    userinfo endpoint when the provider has one."""

    get_settings = staticmethod(discovery.oidc_setting)

    def __init__(self, *args, **kwargs):
        # Django builds every backend for each password sign-in, and the
        # session's backend for each request: nothing here may need the
        # provider (the library reads its endpoints in __init__), or an IdP
        # outage would stop break-glass sign-in and every SSO session with it.
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if not discovery.is_enabled() or request is None:
            return None
        if "code" not in request.GET or "state" not in request.GET:
            return None  # a password sign-in, not the provider's callback
        super().__init__()  # the endpoints, from discovery
        return super().authenticate(request, **kwargs)

    def _verify_jws(self, payload, key):
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise TokenRejected(
                f"ID token signed with {header.get('alg')!r}, "
                f"expected {self.OIDC_RP_SIGN_ALGO}."
            )
        try:
            claims = jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=settings.OIDC_CLOCK_SKEW_SECONDS,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.InvalidTokenError as error:
            raise TokenRejected(f"ID token rejected: {error}.") from error
        audience = claims["aud"]
        several = isinstance(audience, list) and len(audience) > 1
        if several and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise TokenRejected("ID token for several audiences without our azp.")
        return claims

    def verify_token(self, token, **kwargs):
        if not token:
            raise TokenRejected("The provider returned no ID token.")
        return super().verify_token(token, **kwargs)

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, completed (never overridden) by userinfo."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT and settings.OIDC_FETCH_USERINFO:
            userinfo = super().get_userinfo(access_token, id_token, payload)
            if userinfo.get("sub") != payload["sub"]:
                raise TokenRejected("Userinfo is about another subject.")
            for name, value in userinfo.items():
                claims.setdefault(name, value)
        return claims

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        try:
            return sso_login(issuer=settings.OIDC_ISSUER, claims=claims)
        except LoginRefused as error:
            # Shown on the failure page (the library turns a refusal into None).
            self.request.sso_refusal = error.message
            return None

    def get_user(self, user_id):
        # The library's get_user skips the is_active check: a deactivated
        # person's session must stop working at its next request.
        return ModelBackend.get_user(self, user_id)


class LocalPasswordBackend(ModelBackend):
    """Django's password check. With LOCAL_LOGIN=0 only superusers pass (the
    break-glass account for when the IdP is down), and each such sign-in is an
    audit event and a warning in the log."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(
            request, username=username, password=password, **kwargs
        )
        if user is None or settings.LOCAL_LOGIN:
            return user
        if not user.is_superuser:
            logger.info("local password refused for %s: LOCAL_LOGIN=0", username)
            return None
        path = getattr(request, "path", "")
        logger.warning(
            "BREAK-GLASS: superuser %s signed in with a local password while "
            "LOCAL_LOGIN=0 (path %s)",
            user.get_username(),
            path,
        )
        with transaction.atomic():
            audit_record(
                actor=user,
                action="auth.break_glass_login",
                target=user,
                payload={"path": path, "local_login": False},
            )
        return user
