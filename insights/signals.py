from django.db.models.signals import post_save
from django.dispatch import receiver

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant


@receiver(post_save, sender=Tenant)
def give_new_tenants_the_default_targets_and_coverage(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .coverage.defaults import coverage_default_ensure
        from .targets.defaults import targets_default_ensure

        with tenant_context(instance):
            targets_default_ensure()
            coverage_default_ensure()
