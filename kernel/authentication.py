import hmac
from datetime import timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from kernel import db
from kernel.models import ApiToken
from kernel.tokens import token_digest, token_prefix

# last_used_at is bookkeeping, not an audited change: write it at most this often.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@cache
def _token_query() -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    user_model = get_user_model()
    token_fields = tuple(field.attname for field in ApiToken._meta.concrete_fields)
    user_fields = tuple(field.attname for field in user_model._meta.concrete_fields)
    columns = [f"t.{field.column}" for field in ApiToken._meta.concrete_fields]
    columns += [f"u.{field.column}" for field in user_model._meta.concrete_fields]
    sql = (
        f"SELECT {', '.join(columns)} FROM {ApiToken._meta.db_table} t "  # noqa: S608
        f"JOIN {user_model._meta.db_table} u "
        f"ON u.{user_model._meta.pk.column} = t.user_id WHERE t.prefix = %s"
    )
    return sql, token_fields, user_fields


def _token_with_user(prefix: str) -> ApiToken | None:
    """The token with this prefix and its user, in one prepared query: every
    API request starts here."""
    sql, token_fields, user_fields = _token_query()
    found = db.rows(sql, [prefix])
    if not found:
        return None
    row = found[0]
    token = db.instance(ApiToken, token_fields, row[: len(token_fields)])
    token.user = db.instance(get_user_model(), user_fields, row[len(token_fields) :])
    return token


def user_for_token(plaintext: str):
    """Return (user, token) for a usable token, or raise AuthenticationFailed."""
    prefix = token_prefix(plaintext)
    if prefix is None:
        raise exceptions.AuthenticationFailed("Malformed API token.")
    token = _token_with_user(prefix)
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
    target_class = "kernel.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Personal API token: `Token gh_xxxxxxxxxx_…`",
        }
