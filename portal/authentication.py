import hmac
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from portal.models import ApiToken
from portal.tokens import token_digest, token_prefix

# last_used_at is bookkeeping, not an audited change: write it at most this often.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def user_for_token(plaintext: str):
    """Return (user, token) for a usable token, or raise AuthenticationFailed."""
    prefix = token_prefix(plaintext)
    if prefix is None:
        raise exceptions.AuthenticationFailed("Malformed API token.")
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    now = timezone.now()
    if token is None or not hmac.compare_digest(token.digest, token_digest(plaintext)):
        raise exceptions.AuthenticationFailed("Invalid API token.")
    if not token.is_usable(now):
        raise exceptions.AuthenticationFailed("API token revoked or expired.")
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed("User inactive.")
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token gh_…`` (or ``Bearer gh_…``, as MLflow clients send)."""

    keywords = ("token", "bearer")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Token <token>'."
            )
        try:
            plaintext = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("Malformed API token.") from error
        return user_for_token(plaintext)

    def authenticate_header(self, request):
        return "Token"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Personal API token: `Token gh_xxxxxxxxxx_…`",
        }
