from csplatform.jobs.registry import nightly_job

from .services import statements_generate_for_month


@nightly_job("compensation.statements", order=60)
def refresh_draft_statements(*, tenant, day) -> int:
    """This month's draft statements from today's records (after renewals); approved ones stay locked."""
    return statements_generate_for_month(month=day)
