from django.apps import AppConfig


class SuccessPlansConfig(AppConfig):
    name = "success_plans"

    def ready(self):
        from . import receivers  # noqa: F401
