"""Who an MLflow client is, from the headers it sends.

``MLFLOW_TRACKING_TOKEN`` arrives as ``Authorization: Bearer <token>``: a
Gatehouse API token. ``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD``
arrive as HTTP Basic: the password is either the person's Gatehouse password
(checked by Django's ``authenticate``, which is deliberately slow) or one of
their API tokens (fast; the token must belong to that username). Sessions are
not accepted: these endpoints take no CSRF token.

A token calls only what its scopes cover (kernel/scopes.py maps each MLflow
route to one): PERMISSION_DENIED (403) names the missing scope. Service
accounts use their tokens only: their password path is refused.

Failures are throttled like the login page's (kernel/throttling.py): a locked
username, or an address locked out of token guessing, is answered
REQUEST_LIMIT_EXCEEDED (429) with Retry-After.
"""

import base64
import binascii

from django.contrib.auth import authenticate as django_authenticate
from rest_framework.exceptions import AuthenticationFailed

from kernel.authentication import scope_refusal, user_for_token
from kernel.roles import is_service_account
from kernel.scopes import REQUESTS_CREATE
from kernel.throttling import TooManyFailures, is_locked, retry_after
from kernel.tokens import TOKEN_PATTERN
from mlflow_bridge import errors, selectors

_HOW = (
    "Set MLFLOW_TRACKING_TOKEN to a Gatehouse API token, or "
    "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD."
)


def _unauthenticated(reason: str) -> errors.MlflowError:
    return errors.MlflowError(errors.UNAUTHENTICATED, f"{reason} {_HOW}")


def _too_many(wait: int) -> errors.MlflowError:
    return errors.MlflowError(
        errors.REQUEST_LIMIT_EXCEEDED,
        f"Too many failed authentication attempts. Try again in {wait} seconds.",
        retry_after=wait,
    )


def _token_user(request, plaintext: str):
    try:
        user, token = user_for_token(plaintext, request=request)
    except TooManyFailures as error:
        raise _too_many(error.wait) from error
    except AuthenticationFailed as error:
        raise _unauthenticated(str(error.detail)) from error
    if refusal := scope_refusal(token, request):
        raise errors.denied(refusal)
    # The bridge's views ask for more only where one route does two things
    # (setting a governed alias opens a deployment request).
    request.gatehouse_token_scopes = token.scope_set
    return user


def governed_alias_refusal(
    request, actor, name: str, alias: str
) -> errors.MlflowError | None:
    """Setting a governed alias asks for a deployment: a token needs
    ``requests:create`` for that as well (people with a password have all
    their rights). No query unless the token lacks that scope; then whether
    the alias is governed is asked of the entry's rules (kind, team, entry)."""
    scopes = getattr(request, "gatehouse_token_scopes", None)
    if scopes is None or REQUESTS_CREATE in scopes:
        return None
    model = selectors.model_get(actor=actor, name=name)
    if alias not in selectors.governed_for(model):
        return None
    return errors.denied(
        f"This API token lacks the scope '{REQUESTS_CREATE}': setting a governed "
        "alias requests a deployment. Create a token with that scope."
    )


def authenticate(request):
    """Return the active user the request authenticates, or raise
    UNAUTHENTICATED."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if not header:
        raise _unauthenticated("Authentication required.")
    if scheme in ("bearer", "token") and credentials:
        return _token_user(request, credentials)
    if scheme != "basic" or not credentials:
        raise _unauthenticated("Unsupported Authorization header.")
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise _unauthenticated("Malformed basic credentials.") from error
    username, separator, password = decoded.partition(":")
    if not separator or not username:
        raise _unauthenticated("Malformed basic credentials.")
    if TOKEN_PATTERN.match(password):
        user = _token_user(request, password)
        if user.get_username() != username:
            raise _unauthenticated("The API token belongs to another user.")
        return user
    # A locked username is refused by axes' backend before the password is
    # checked (even the right one); the refusal is audited, not counted again.
    user = django_authenticate(request, username=username, password=password)
    if user is None:
        if is_locked(request, username):
            raise _too_many(retry_after(request, username))
        raise _unauthenticated("Invalid username or password.")
    if is_service_account(user):
        raise _unauthenticated("Service accounts sign in with their API tokens.")
    return user
