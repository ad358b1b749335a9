"""Helpers shared by the approvals pages: error translation, permission
checks that decide which buttons show, and number formatting."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme

from approvals.access import may_request, may_roll_back, may_validate  # noqa: F401
from kernel.errors import NotFound, ServiceError
from kernel.errors import PermissionDenied as ServicePermissionDenied
from kernel.roles import ROLE_LABELS
from models_registry.checklist import FAIL, NOT_APPLICABLE, PASS

GATE_LABELS = {PASS: "Passes", FAIL: "Fails", NOT_APPLICABLE: "Not applicable"}


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


def number(value) -> str:
    """A metric as people read it: four decimals at most, no trailing zeros."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0 or 0.0001 <= abs(value) < 1_000_000:
            return f"{value:,.4f}".rstrip("0").rstrip(".")
        return f"{value:.4g}"
    return str(value)


def signed(value: float) -> str:
    text = number(abs(value))
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"-{text}"
    return "0"


def add_service_errors(form, error: ServiceError) -> None:
    if not error.fields:
        form.add_error(None, error.message)
        return
    for field, problems in error.fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def role_labels(policy: dict) -> list[str]:
    return [
        ROLE_LABELS.get(role, role).lower() for role in policy.get("required_roles", [])
    ]
