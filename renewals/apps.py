from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "renewals"

    def ready(self):
        from . import panels, signals  # noqa: F401  (panels registers the Account 360 renewals section)
