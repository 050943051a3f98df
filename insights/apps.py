from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "insights"

    def ready(self):
        from . import signals  # noqa: F401
        from .coverage import panels as coverage_panels  # noqa: F401  (Account 360 assignment trail)
        from .reports import panels as report_panels  # noqa: F401  (Account 360 reports, My work reports)
        from .targets import panels as target_panels  # noqa: F401  (My work targets)
