from django.apps import AppConfig


class CompensationConfig(AppConfig):
    name = "compensation"

    def ready(self):
        from . import signals  # noqa: F401
