from django.apps import AppConfig


class RenewalsConfig(AppConfig):
    name = "renewals"

    def ready(self):
        # panels registers the Account 360 renewals section, mywork the My work section
        from . import mywork, panels, signals  # noqa: F401
