from django.apps import AppConfig


class SuccessPlansConfig(AppConfig):
    name = "success_plans"
