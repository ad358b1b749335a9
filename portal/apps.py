from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from django.apps import apps

    from portal.roles import sync_role_groups

    sync_role_groups(kwargs.get("apps") or apps)


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from portal import auth_events  # noqa: F401  (connects the receivers)

        # After every migrate, give the roles any permission added since.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="portal_sync_roles")
