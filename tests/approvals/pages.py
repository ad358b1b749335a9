"""Helpers of the approvals page tests (tests/approvals/test_views_*.py).

The pages use the ``world`` fixture of ``tests/approvals/conftest.py``: a
low-risk model ``ranker`` of the credit-risk team with every persona around it.
"""

from django.db import connection
from django.test.utils import CaptureQueriesContext

# Who may see the ranker model's pages: (persona, sees).
VISIBILITY = [
    ("requester", True),
    ("teammate", True),
    ("author", True),
    ("stranger", False),
    ("reviewer", True),
    ("unassigned_reviewer", False),
    ("risk_officer", True),
    ("validator", True),
    ("auditor", True),
    ("platform_admin", True),
    ("outsider", False),
]
VISIBLE = [persona for persona, sees in VISIBILITY if sees]
INVISIBLE = [persona for persona, sees in VISIBILITY if not sees]


def body(response) -> str:
    return response.content.decode()


def person(world, persona: str):
    return getattr(world.users, persona)


def get_as(client, user, url, data=None):
    client.force_login(user)
    return client.get(url, data or {})


def post_as(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {})


def count_queries(client, url, data=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, data or {})
    assert response.status_code == 200, response.status_code
    return len(queries)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def post_keeping_state(client, user, url, data=None):
    """Sign in, snapshot what a write could change, post; return both."""
    from tests.approvals.conftest import approvals_state

    client.force_login(user)
    state = approvals_state()
    return client.post(url, data or {}), state
