from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"

    def ready(self):
        from . import panels, signals  # noqa: F401  (panels registers the Account 360 health section)
