from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "csplatform.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self):
        from . import db_guard  # noqa: F401  (connects the role check to new connections)
