from django.apps import AppConfig


class SuccessPlansConfig(AppConfig):
    name = "success_plans"

    def ready(self):
        from accounts.panels import register_account_panel

        from . import receivers  # noqa: F401
        from .panels import success_plan_panel

        register_account_panel(name="success_plan", order=10, template="success_plans/_account_panel.html",
                               context=success_plan_panel)
