from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "renewals"

    def ready(self):
        from . import signals  # noqa: F401
