from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from csplatform.tenancy.context import tenant_context
from csplatform.tenancy.models import Tenant

# Sent with `account_ids` when accounts enter a lifecycle stage (inside the writing transaction).
stage_entered = Signal()


@receiver(post_save, sender="accounts.Account")
def record_stage_entry(sender, instance, raw=False, **kwargs):
    if not raw:
        from .models import Account
        from .services import stage_entries_record

        if stage_entries_record(account_ids=[instance.pk]):
            # The UPDATE changed these two columns behind the instance's back; without this, saving the
            # same instance again would write the old values and look like a new stage entry.
            instance.stage_recorded_id, instance.stage_entered_at = Account.objects.filter(
                pk=instance.pk).values_list("stage_recorded_id", "stage_entered_at").get()


@receiver(post_save, sender=Tenant)
def give_new_tenants_default_lists(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        from .services import defaults_ensure

        with tenant_context(instance):
            defaults_ensure()
