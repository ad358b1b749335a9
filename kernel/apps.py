from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    """Run once per migrate (or flush), after the last app's permissions exist."""
    from django.apps import apps

    from kernel.roles import sync_role_groups

    if sender is not list(apps.get_app_configs())[-1]:
        return
    sync_role_groups(kwargs.get("apps") or apps)


class KernelConfig(AppConfig):
    """The bottom layer: errors, roles, teams, tokens, SQL helpers, web glue.

    Its label stays ``portal``: the label its tables, migrations, permission
    codenames (``portal.view_team``) and audit target types
    (``portal.apitoken``, inside the hash chain) were created under before the
    kernel was split from the shell. Renaming it would rewrite all four.
    """

    name = "kernel"
    label = "portal"
    verbose_name = "Portal"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from kernel.authentication import refuse_service_account_login

        # After every migrate, give the roles any permission added since.
        post_migrate.connect(_sync_roles, dispatch_uid="portal_sync_roles")
        user_logged_in.connect(
            refuse_service_account_login, dispatch_uid="refuse_service_account_login"
        )
