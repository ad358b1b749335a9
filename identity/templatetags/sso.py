"""The login page's sign-in options: ``{% sign_in_options as sso %}``."""

from django import template
from django.conf import settings

from identity import discovery

register = template.Library()


@register.simple_tag
def sign_in_options() -> dict:
    return {
        "is_enabled": discovery.is_enabled(),
        "provider_name": settings.OIDC_PROVIDER_NAME,
        "local_login": settings.LOCAL_LOGIN,
    }
