"""A token just made, between the POST that made it and the redirected GET that
shows it once (the token page and a service account's page).

The plaintext waits in the session (stored server-side, never in the messages
cookie) and is forgotten when shown: a reload neither re-submits the form nor
shows the secret again. Pages showing it are ``never_cache``.
"""

SESSION_KEY = "gatehouse_new_api_token"


def remember_new_token(request, token, plaintext: str) -> None:
    request.session[SESSION_KEY] = {"owner": token.user_id, "plaintext": plaintext}


def pop_new_token(request, *, owner_id: int) -> dict | None:
    """The token just made for ``owner_id`` (shown once), else None."""
    new_token = request.session.pop(SESSION_KEY, None)
    return new_token if new_token and new_token["owner"] == owner_id else None
