from csplatform.jobs.registry import nightly_job

from .notices import statements_to_approve_notify
from .services import statements_generate_for_month


@nightly_job("compensation.statements", order=60)
def refresh_draft_statements(*, tenant, day) -> int:
    """This month's draft statements from today's records (after renewals); approved ones stay locked. The drafts
    of months now over are ready for approval: their approvers are notified (once)."""
    rows = statements_generate_for_month(month=day)
    statements_to_approve_notify(day=day)
    return rows
