"""Hand a committed row to a worker: the database row is the outbox.

``on_commit`` closes the race where a worker reads before the commit, but not a
broker outage after it; so callbacks are ``robust`` (a failing enqueue is logged,
the commit stands) and each app's periodic sweep re-enqueues rows left behind.
"""

from collections.abc import Callable

from django.db import transaction


def enqueue_on_commit(name: str, send: Callable[[], None]) -> None:
    """Run ``send`` (which enqueues a task) once the transaction commits.

    Django logs a failing robust callback by its ``__qualname__``; a lambda or a
    partial has none worth reading, so the callback is given ``name``.
    """

    def callback() -> None:
        send()

    callback.__name__ = callback.__qualname__ = name
    transaction.on_commit(callback, robust=True)
