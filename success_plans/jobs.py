from accounts.services import stage_entries_record
from csplatform.jobs.registry import nightly_job

from .playbooks import playbooks_apply_on_stage_entries


@nightly_job("success_plans.stage_playbooks", order=10)
def apply_stage_playbooks(*, tenant, day) -> int:
    """Safety net for stage entries written without the ORM (e.g. raw SQL fixes): record and apply."""
    stage_entries_record()
    return playbooks_apply_on_stage_entries(tenant=tenant)
