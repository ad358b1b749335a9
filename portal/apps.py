from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    """Run once per migrate (or flush), after the last app's permissions exist."""
    from django.apps import apps

    from portal.roles import sync_role_groups

    if sender is not list(apps.get_app_configs())[-1]:
        return
    sync_role_groups(kwargs.get("apps") or apps)


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from portal import auth_events  # noqa: F401  (connects the receivers)

        # After every migrate, give the roles any permission added since.
        post_migrate.connect(_sync_roles, dispatch_uid="portal_sync_roles")
