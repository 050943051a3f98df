from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "csplatform.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self):
        from . import db_guard, db_roles, schema  # noqa: F401  (role checks and grants; token in the OpenAPI schema)
