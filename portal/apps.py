from django.apps import AppConfig


class ShellConfig(AppConfig):
    """The top layer: settings, URLs, Celery, home, health, demo, reports.

    Its label is ``shell``: ``portal`` belongs to the kernel (see kernel.apps).
    """

    name = "portal"
    label = "shell"
    verbose_name = "Portal shell"

    def ready(self):
        from portal import auth_events  # noqa: F401  (connects the receivers)
