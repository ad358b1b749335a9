import hmac
from datetime import timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from kernel import db
from kernel.models import ApiToken, ServiceAccount, Team
from kernel.roles import remember_memberships
from kernel.scopes import missing_scope, view_key
from kernel.teams import TEAM_COLUMNS, remember_teams
from kernel.throttling import (
    API_TOKEN_USERNAME,
    TooManyFailures,
    retry_after,
    token_failure_record,
)
from kernel.tokens import token_digest, token_prefix

# last_used_at is bookkeeping, not an audited change: write it at most this often.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


@cache
def _token_query() -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The token, its user, and what ``kernel.roles`` and ``kernel.teams``
    would read next: the user's groups (with the team of a team's group) and
    whether the user is a service account. One row per group, or one row with
    no group."""
    user_model = get_user_model()
    token_fields = tuple(field.attname for field in ApiToken._meta.concrete_fields)
    user_fields = tuple(field.attname for field in user_model._meta.concrete_fields)
    columns = [f"t.{field.column}" for field in ApiToken._meta.concrete_fields]
    columns += [f"u.{field.column}" for field in user_model._meta.concrete_fields]
    columns += ["g.id", "g.name"]
    columns += [f"tm.{field.column}" for field in Team._meta.concrete_fields]
    user_groups = user_model.groups.through._meta.db_table
    sql = (
        f"SELECT {', '.join(columns)}, EXISTS (SELECT 1 FROM "  # noqa: S608
        f"{ServiceAccount._meta.db_table} s WHERE s.user_id = u.id) "
        f"FROM {ApiToken._meta.db_table} t "
        f"JOIN {user_model._meta.db_table} u "
        f"ON u.{user_model._meta.pk.column} = t.user_id "
        f"LEFT JOIN {user_groups} ug ON ug.user_id = u.id "
        f"LEFT JOIN {Group._meta.db_table} g ON g.id = ug.group_id "
        f"LEFT JOIN {Team._meta.db_table} tm ON tm.group_id = g.id "
        "WHERE t.prefix = %s"
    )
    return sql, token_fields, user_fields


def _token_with_user(prefix: str) -> ApiToken | None:
    """The token with this prefix and its user, with the user's roles, groups
    and teams, in one prepared query: every API request starts here."""
    sql, token_fields, user_fields = _token_query()
    found = db.rows(sql, [prefix])
    if not found:
        return None
    row = found[0]
    start, end = len(token_fields), len(token_fields) + len(user_fields)
    token = db.instance(ApiToken, token_fields, row[:start])
    token.user = db.instance(get_user_model(), user_fields, row[start:end])
    team_end = end + 2 + len(TEAM_COLUMNS)
    groups = [each for each in found if each[end] is not None]
    remember_memberships(
        token.user, [each[end : end + 2] for each in groups], row[team_end]
    )
    remember_teams(
        token.user,
        [each[end + 2 : team_end] for each in groups if each[end + 2] is not None],
    )
    return token


def _guessed(request, message: str) -> exceptions.APIException:
    """A token that is not one of ours, counted against the client address:
    once the address is locked, 429 with Retry-After instead of 401."""
    if request is not None and token_failure_record(request):
        return TooManyFailures(retry_after(request, API_TOKEN_USERNAME))
    return exceptions.AuthenticationFailed(message)


def user_for_token(plaintext: str, request=None):
    """Return (user, token) for a usable token, or raise AuthenticationFailed
    (TooManyFailures once the request's address has sent too many unknown
    tokens).

    Only unknown and malformed tokens count, and a locked address is refused
    only them: a valid token costs no throttling query, and a stranger behind
    a shared address cannot lock colleagues' scripts out. Revoked and expired
    tokens are real tokens, not guesses, and do not count.
    """
    prefix = token_prefix(plaintext)
    if prefix is None:
        raise _guessed(request, "Malformed API token.")
    token = _token_with_user(prefix)
    now = timezone.now()
    if token is None or not hmac.compare_digest(token.digest, token_digest(plaintext)):
        raise _guessed(request, "Invalid API token.")
    if token.revoked_at is not None:
        raise exceptions.AuthenticationFailed(
            f"This API token was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC."
        )
    if not token.is_usable(now):
        raise exceptions.AuthenticationFailed(
            f"This API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC. "
            "Create a new one."
        )
    # Read with the token on every request: deactivating an account (by hand,
    # or the identity provider through SCIM) stops its tokens at once.
    if not token.user.is_active:
        raise exceptions.AuthenticationFailed(
            "The account of this API token is deactivated."
        )
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user, token


class MissingScope(exceptions.PermissionDenied):
    """403: the token is valid but its scopes do not cover the route."""

    default_code = "missing_scope"


def scope_refusal(token: ApiToken, request) -> str | None:
    """Why ``token`` may not call the route ``request`` resolved to (None:
    it may). ``request`` is Django's request."""
    match = request.resolver_match
    view_class = getattr(match.func, "cls", None) if match is not None else None
    if view_class is not None and not hasattr(view_class, request.method.lower()):
        return None  # a method the view does not take answers 405, not 403
    key = view_key(match.func) if match is not None else ""
    return missing_scope(token.scope_set, key, request.method)


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
        # The Django request: axes keeps its per-request state on it.
        user, token = user_for_token(plaintext, request=request._request)
        if refusal := scope_refusal(token, request._request):
            raise MissingScope(refusal)
        return user, token

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
            "description": (
                "API token of a person or a service account: "
                "`Token gh_xxxxxxxxxx_…`. A token calls only the routes its "
                "scopes cover (403 `missing_scope` otherwise)."
            ),
        }


def refuse_service_account_login(sender, request, user, **kwargs):
    """``user_logged_in``: a service account never gets a session, whichever
    way in (password form, admin login, single sign-on) was used. Its password
    is unusable; this stops one that an admin set anyway. The session is
    emptied before the refusal, so nothing of the login survives."""
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    from kernel.roles import is_service_account

    if not is_service_account(user):
        return
    if request is not None:
        request.session.flush()
        request.user = AnonymousUser()
    raise PermissionDenied("Service accounts do not sign in; they use API tokens.")
