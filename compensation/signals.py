from django.db.models.signals import post_save
from django.dispatch import receiver

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant


@receiver(post_save, sender=Tenant)
def give_new_tenants_the_default_plan(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .services import comp_plan_default_ensure

        with tenant_context(instance):
            comp_plan_default_ensure()
