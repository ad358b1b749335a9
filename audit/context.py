"""Who is acting and from where, for the audit events recorded during a request.

The middleware fills this in for web requests; Celery tasks and management
commands run with an empty context unless they set one with ``audit_context``.
"""

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None


_EMPTY = RequestContext()
_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "audit_request_context", default=None
)


def current_context() -> RequestContext:
    return _current.get() or _EMPTY


@contextmanager
def audit_context(*, request_id: str = "", ip: str | None = None) -> Iterator[None]:
    token = _current.set(RequestContext(request_id=request_id, ip=ip))
    try:
        yield
    finally:
        _current.reset(token)
