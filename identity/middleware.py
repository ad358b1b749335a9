"""Sessions end after SESSION_IDLE_TIMEOUT_MINUTES without a request.

The time of the last request is kept in the session from the sign-in on
(identity/signals.py), rewritten at most once a minute (a session write per
request would cost every page a database write). SESSION_COOKIE_AGE still
bounds a session's whole life, and alone bounds a session without the clock
(one opened before this was deployed).
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

SEEN_KEY = "identity_last_seen"
_RESOLUTION_SECONDS = 60


class IdleSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        idle = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
        user = getattr(request, "user", None)
        if idle and user is not None and user.is_authenticated:
            now = int(time.time())
            seen = request.session.get(SEEN_KEY)
            if isinstance(seen, int) and now - seen > idle:
                logout(request)
                minutes = settings.SESSION_IDLE_TIMEOUT_MINUTES
                messages.info(
                    request,
                    f"You were signed out after {minutes} minutes without activity.",
                )
            elif isinstance(seen, int) and now - seen >= _RESOLUTION_SECONDS:
                request.session[SEEN_KEY] = now
        return self.get_response(request)
