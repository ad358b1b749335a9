from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self):
        # Labels of this app's values and links to its audit targets.
        from monitoring import labels

        labels.register()
