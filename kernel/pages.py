"""The pages' side of service errors: one decorator, one form helper."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme

from kernel.errors import NotFound, ServiceError
from kernel.errors import PermissionDenied as ServicePermissionDenied


def service_errors_as_http(view):
    """Turn the selectors' and services' refusals into 404 and 403 responses."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error
        except ServicePermissionDenied as error:
            raise PermissionDenied(error.message) from error

    return wrapper


def add_service_errors(form, error: ServiceError) -> None:
    """Put a service's refusal on the form: each field error on its field (or
    on the form when the form has no such field), the message when none."""
    if not error.fields:
        form.add_error(None, error.message)
        return
    for field, problems in error.fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


def safe_next(request, fallback: str) -> str:
    """The ``next`` parameter when it points back into this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
