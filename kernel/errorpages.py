"""Error answers for people and programs: JSON ``{"code", "message", "fields"}``
under the API prefixes, a styled page everywhere else. A database that cannot
be reached answers 503 with ``Retry-After`` instead of a 500.

The shell's URL module names these as ``handler400`` … ``handler500``.
"""

import logging
import sys

from django.core.exceptions import BadRequest
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

from kernel.guards import api_prefixes

RETRY_AFTER_SECONDS = 30

_TITLES = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Not allowed", "You do not have permission to see or do this."),
    404: ("Not found", "There is nothing here, or nothing you may see."),
    500: ("Something went wrong", "The portal could not answer. It has been logged."),
    503: (
        "Temporarily unavailable",
        "The portal cannot reach its database just now. Try again in a minute.",
    ),
}
_CODES = {
    400: "bad_request",
    403: "permission_denied",
    404: "not_found",
    500: "server_error",
    503: "unavailable",
}


def _is_api(request) -> bool:
    return request.path.startswith(api_prefixes())


def _answer(request, status: int, message: str | None = None):
    title, default = _TITLES[status]
    message = message or default
    if _is_api(request):
        response = JsonResponse(
            {"code": _CODES[status], "message": message, "fields": {}}, status=status
        )
    else:
        # Rendered without the request: no context processor (which would ask
        # the database that may be what failed) and no session access.
        body = loader.get_template("errors/error.html").render(
            {"status": status, "title": title, "message": message}
        )
        response = HttpResponse(body, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def bad_request(request, exception=None):
    # Only our own refusals explain themselves; a SuspiciousOperation's text
    # (a host name, a header) is the attacker's input and is not echoed.
    message = str(exception) if isinstance(exception, BadRequest) else None
    return _answer(request, 400, message or None)


def permission_denied(request, exception=None):
    # The services' refusals (kernel.pages) are written for people.
    return _answer(request, 403, str(exception or "") or None)


def csrf_failure(request, reason: str = ""):
    """``CSRF_FAILURE_VIEW``: the styled 403 page for a form sent without its
    security token (an old tab, cookies blocked), JSON under the API prefixes."""
    if _is_api(request):
        return _answer(request, 403, f"CSRF check failed: {reason}")
    return _answer(
        request,
        403,
        "The form was sent without its security check: the page was open for a "
        "long time, or the browser blocks cookies for this site. Go back, reload "
        "the page and send it again.",
    )


def page_not_found(request, exception=None):
    return _answer(request, 404)


def server_error(request):
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DatabaseError) and "connection" in str(error).lower()
    ):
        return _answer(request, 503)
    return _answer(request, 500)


class RefusalsUntraced(logging.Filter):
    """Log a refused request (403, 404) as its one warning line, without the
    traceback of the exception that answered it: a refusal is an answer."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in (403, 404):
            record.exc_info = None
            record.exc_text = None
        return True
