from django.apps import AppConfig


class ModelsRegistryConfig(AppConfig):
    name = "models_registry"
    verbose_name = "Model registry"

    def ready(self):
        # Labels of this app's values and links to its audit targets.
        from models_registry import labels

        labels.register()
