from django.apps import apps

from .models import TenantOwnedModel


def tenant_owned_models() -> list:
    """Every concrete model that inherits the tenant base (the tables lock 2 must cover)."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantOwnedModel) and not model._meta.proxy and model._meta.managed
    ]
