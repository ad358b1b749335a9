from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals"

    def ready(self):
        # Labels of this app's values and links to its audit targets.
        from approvals import labels

        labels.register()
