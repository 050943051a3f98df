from accounts.services import stage_entries_record
from csplatform.jobs.registry import nightly_job

from .models import Task
from .playbooks import playbooks_apply_on_stage_entries


@nightly_job("success_plans.stage_playbooks", order=10)
def apply_stage_playbooks(*, tenant, day) -> int:
    """Safety net for stage entries written without the ORM (e.g. raw SQL fixes): record and apply."""
    # Recording fires stage_entered, whose receiver already creates the tasks; count them all.
    before = Task.objects.filter(source=Task.Source.PLAYBOOK).count()
    stage_entries_record()
    playbooks_apply_on_stage_entries(tenant=tenant)
    return Task.objects.filter(source=Task.Source.PLAYBOOK).count() - before
