from django.dispatch import receiver

from accounts.signals import stage_entered
from csplatform.tenancy.context import current_tenant


@receiver(stage_entered)
def apply_stage_playbooks(sender, account_ids, **kwargs):
    from .playbooks import playbooks_apply_on_stage_entries

    playbooks_apply_on_stage_entries(tenant=current_tenant(), account_ids=account_ids)
