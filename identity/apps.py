from django.apps import AppConfig


class IdentityConfig(AppConfig):
    """Single sign-on (OpenID Connect), IdP group mapping and SCIM provisioning.

    It sits above ``audit`` and the kernel: every change it makes to a person's
    account, roles or teams is an audit event. No app imports it; the shell
    wires its URLs and settings.
    """

    name = "identity"
    verbose_name = "Identity and single sign-on"

    def ready(self):
        from identity import signals  # noqa: F401 (connects the receivers)
