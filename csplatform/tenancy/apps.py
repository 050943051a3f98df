from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "csplatform.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self):
        from . import db_guard, schema  # noqa: F401  (role check on connect; token in the OpenAPI schema)
