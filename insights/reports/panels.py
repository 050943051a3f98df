"""Registers the monthly reports on shared pages: the Account 360 panel and the My work section."""

from django.urls import reverse

from accounts.panels import register_account_panel
from success_plans.mywork_sections import register_mywork_section

from ..models import MonthlyReport
from .selectors import account_reports, report_cycle_month, status_counts


def account_panel(request, account) -> dict:
    """The current draft (the latest month's, if still a draft) and the delivered reports: one query."""
    reports = account_reports(account=account)
    drafts = [r for r in reports if r.status == MonthlyReport.Status.DRAFT]
    return {
        "draft": drafts[0] if drafts else None,
        "delivered": [r for r in reports if r.status == MonthlyReport.Status.DELIVERED],
    }


def mywork_section(request, user_ids, today) -> dict | None:
    """"Monthly reports for <Month>: N to deliver, M delivered" for the people shown; None without reports."""
    month = report_cycle_month(today)
    counts = status_counts(month=month, user_ids=user_ids)
    if not counts["reports"]:
        return None
    url = reverse("reports:list", kwargs={"tenant_slug": request.tenant.slug}) + f"?month={month:%Y-%m}"
    if len(user_ids) > 1:
        url += "&user=team"
    elif user_ids and user_ids[0] != request.user.pk:
        url += f"&user={user_ids[0]}"
    return {"month": month, "url": url, **counts}


register_account_panel(name="monthly_reports", order=20, template="insights/reports/_account_panel.html",
                       context=account_panel)
register_mywork_section(name="monthly_reports", order=20, template="insights/reports/_mywork.html",
                        context=mywork_section)
