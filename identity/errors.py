"""Errors of sign-in and provisioning (the kernel's ServiceError hierarchy)."""

from kernel.errors import ServiceError


class LoginRefused(ServiceError):
    """The identity provider vouched for the person, but Gatehouse will not let
    them in (deactivated, or an account of that name is not theirs)."""

    code = "login_refused"
    status_code = 403
