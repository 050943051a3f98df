from accounts.services import stage_entries_record
from csplatform.jobs.registry import nightly_job

from .models import Task
from .playbooks import playbooks_apply_on_stage_entries
from .services import overdue_tasks_notify


@nightly_job("success_plans.stage_playbooks", order=10)
def apply_stage_playbooks(*, tenant, day) -> int:
    """Safety net for stage entries written without the ORM (e.g. raw SQL fixes): record and apply."""
    # Recording fires stage_entered, whose receiver already creates the tasks; count them all.
    before = Task.objects.filter(source=Task.Source.PLAYBOOK).count()
    stage_entries_record()
    playbooks_apply_on_stage_entries(tenant=tenant)
    return Task.objects.filter(source=Task.Source.PLAYBOOK).count() - before


@nightly_job("success_plans.overdue_notices", order=27)
def notify_overdue_tasks(*, tenant, day) -> int:
    """A notification to each owner of an open task that fell due before `day`, once per task."""
    return overdue_tasks_notify(day=day)
