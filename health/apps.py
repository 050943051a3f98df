from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"

    def ready(self):
        # panels registers the Account 360 health section, mywork the My work section
        from . import mywork, panels, signals  # noqa: F401
