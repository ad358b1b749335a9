"""Start a new session's idle clock, and remember the sessions people sign in
to, so that deactivating a person can end them (user_sessions_end; records of
sessions that ended otherwise are pruned at the person's next sign-in).
Bookkeeping only: the sign-in and sign-out audit events are the shell's
(portal/auth_events.py)."""

import time

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from identity.middleware import SEEN_KEY
from identity.services import user_session_remember


@receiver(user_logged_in, dispatch_uid="identity_remember_session")
def remember_session(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    if session is None:
        return
    # Idle from now on (the sign-in's own session write carries it).
    session[SEEN_KEY] = int(time.time())
    if not session.session_key:
        # Signing in over another person's session flushed it: the new
        # session gets its key when first saved.
        session.save()
    user_session_remember(user=user, session_key=session.session_key)
