from csplatform.jobs.registry import nightly_job

from .reports.drafting import reports_draft
from .reports.selectors import report_cycle_month


@nightly_job("insights.reports", order=70)
def draft_monthly_reports(*, tenant, day) -> int:
    """Drafts the reports on the month before `day`'s: they appear on the 1st; later nights add the accounts a
    failed run missed. Existing reports (edited drafts, delivered ones) are left as they are."""
    return reports_draft(tenant=tenant, month=report_cycle_month(day))
